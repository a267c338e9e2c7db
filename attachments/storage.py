"""Bytes in and out of PostgreSQL, one chunk (at most CHUNK_BYTES) at a time.

An upload arrives as Django's UploadedFile (over FILE_UPLOAD_MAX_MEMORY_SIZE: a temporary
file on disk); it is read twice, once to hash it and once to write its chunks, so no more
than a chunk of it is ever in memory. A download reads one chunk per query: a server-side
cursor would be simpler, but outside a transaction Django declares it WITH HOLD, and
PostgreSQL then copies the whole result aside before the first row.
"""

from __future__ import annotations

import hashlib

from django.db import connection

from attachments.models import CHUNK_BYTES, AttachmentChunk


def head(uploaded, size: int) -> bytes:
    uploaded.seek(0)
    first = uploaded.read(size)
    uploaded.seek(0)
    return first


def digest(uploaded) -> str:
    sha = hashlib.sha256()
    for piece in uploaded.chunks(CHUNK_BYTES):
        sha.update(piece)
    uploaded.seek(0)
    return sha.hexdigest()


def write_chunks(attachment, uploaded) -> int:
    """The file's bytes as the attachment's chunks; returns how many were written.

    A temporary file's chunks(n) reads n bytes at a time; an in-memory one (at most
    FILE_UPLOAD_MAX_MEMORY_SIZE) yields itself whole, cut here without copies."""
    table = AttachmentChunk._meta.db_table
    seq = 0
    with connection.cursor() as cursor:
        for piece in uploaded.chunks(CHUNK_BYTES):
            view = memoryview(piece)
            for start in range(0, len(view), CHUNK_BYTES):
                _insert(cursor, table, attachment, seq, view[start : start + CHUNK_BYTES])
                seq += 1
        if seq == 0:  # an empty file still has one (empty) chunk: "no chunks" means damaged
            _insert(cursor, table, attachment, seq, b"")
            seq += 1
    uploaded.seek(0)
    return seq


def _insert(cursor, table, attachment, seq, data) -> None:
    cursor.execute(
        f'INSERT INTO "{table}" (tenant_id, attachment_id, seq, data) VALUES (%s, %s, %s, %s)',
        [attachment.tenant_id, attachment.pk, seq, data],
    )


def read_chunks(tenant_id: int, attachment_id: int):
    """The attachment's bytes, chunk by chunk (a generator for StreamingHttpResponse)."""
    table = AttachmentChunk._meta.db_table
    seq = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f'SELECT data FROM "{table}" WHERE tenant_id = %s AND attachment_id = %s AND seq = %s',
                [tenant_id, attachment_id, seq],
            )
            row = cursor.fetchone()
        if row is None:
            return
        yield bytes(row[0])
        seq += 1
