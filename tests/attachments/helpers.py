"""Files for the attachment tests: real content of each kind, built in memory."""

import hashlib
import os

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(50)


def pdf(name="contract.pdf", size=None) -> SimpleUploadedFile:
    """A PDF of `size` bytes (random after its header, so no two chunks are alike)."""
    content = PDF if size is None else PDF + os.urandom(size - len(PDF))
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def text(name="notes.txt", content="Call back on Monday.\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/plain")


def stored_bytes(attachment_id) -> bytes:
    """The file as PostgreSQL holds it, its chunks joined in order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(string_agg(data, ''::bytea ORDER BY seq), ''::bytea) "
            "FROM attachments_attachmentchunk WHERE attachment_id = %s",
            [attachment_id],
        )
        return bytes(cursor.fetchone()[0])


def chunk_count(attachment_id) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM attachments_attachmentchunk WHERE attachment_id = %s", [attachment_id])
        return cursor.fetchone()[0]


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def body(response) -> bytes:
    return b"".join(response.streaming_content)
