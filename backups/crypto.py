"""Encryption of backup files at rest (BACKUP_ENCRYPTION_KEY or BACKUP_ENCRYPTION_KEY_FILE).

The format, streamed in chunks so a dump of any size never sits in memory:

    MAGIC (8 bytes) | salt (32 random bytes) | chunk 0 | chunk 1 | ... | last chunk

Each file has its own AES-256-GCM key, derived from the configured key and the
file's salt with HKDF-SHA256, so nonces never repeat across files. Each chunk is
up to CHUNK bytes of the plain dump, sealed with the nonce (chunk number, 11 bytes
big-endian) + (1 for the last chunk, else 0): chunks cannot be reordered, dropped or
cut off at the end without decryption failing (the STREAM construction).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from backups.postgres import BackupError

MAGIC = b"CRMENC1\n"
SALT = 32
CHUNK = 1024 * 1024
TAG = 16
INFO = b"crm backup v1"


class KeyProblem(BackupError):
    """The key is missing, malformed or not the one a file was written with: not the file's fault."""


def configured_key() -> bytes | None:
    """The 32-byte key from the settings (None: backups are not encrypted); BackupError when malformed."""
    text = settings.BACKUP_ENCRYPTION_KEY
    if not text and settings.BACKUP_ENCRYPTION_KEY_FILE:
        try:
            text = Path(settings.BACKUP_ENCRYPTION_KEY_FILE).read_text().strip()
        except OSError as error:
            raise KeyProblem(f"Cannot read BACKUP_ENCRYPTION_KEY_FILE: {error.strerror} ({error.filename})") from None
    if not text:
        return None
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise KeyProblem("The backup encryption key must be 32 bytes in URL-safe base64 (44 characters).")
    return key


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def _aead(key: bytes, salt: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO).derive(key))


def _nonce(number: int, last: bool) -> bytes:
    return number.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def encrypt(source: BinaryIO, target: BinaryIO, key: bytes) -> tuple[str, int]:
    """Encrypt `source` into `target`; returns (sha256, size) of what was written."""
    salt = os.urandom(SALT)
    aead, digest = _aead(key, salt), hashlib.sha256()
    size = 0

    def write(data: bytes):
        nonlocal size
        target.write(data)
        digest.update(data)
        size += len(data)

    write(MAGIC + salt)
    number, chunk = 0, source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        write(aead.encrypt(_nonce(number, not following), chunk, None))
        if not following:
            return digest.hexdigest(), size
        number, chunk = number + 1, following


def decrypt(source: BinaryIO, target: BinaryIO, key: bytes) -> str:
    """Decrypt `source` into `target`; returns the sha256 of what was read (the stored file).

    BackupError when the file is not ours, was cut short, or was changed, or the key is not the one it
    was written with.
    """
    digest = hashlib.sha256()
    header = source.read(len(MAGIC) + SALT)
    digest.update(header)
    if len(header) != len(MAGIC) + SALT or not header.startswith(MAGIC):
        raise BackupError("The file is not an encrypted backup.")
    aead = _aead(key, header[len(MAGIC) :])
    number, chunk = 0, source.read(CHUNK + TAG)
    while True:
        following = source.read(CHUNK + TAG)
        digest.update(chunk)
        try:
            target.write(aead.decrypt(_nonce(number, not following), chunk, None))
        except InvalidTag:
            raise BackupError(
                f"Decryption failed at chunk {number}: the file was changed or cut short, "
                "or BACKUP_ENCRYPTION_KEY is not the key it was written with."
            ) from None
        if not following:
            return digest.hexdigest()
        number, chunk = number + 1, following
