"""Attachments: a 10 MB upload and download through the WSGI application (throughput and Python's
peak memory, which must stay far under the file's size: streamed, never whole), and (scenario
attachments_backup) a backup with about 100 MB of files against a bare pg_dump of the same database."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from bench.pages import Context, Server
from bench.timing import Result, compare
from crm.tenancy.context import activate

MB = 1024 * 1024
FILE_BYTES = 10 * MB
BACKUP_FILES = 10  # x 10 MB: the backup scenario's ~100 MB of files
PDF_HEADER = b"%PDF-1.4\n"


def _multipart(path: Path, boundary: str) -> int:
    """A multipart/form-data body with one 10 MB PDF part `file`, written to `path`; its length."""
    with path.open("wb") as body:
        body.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
        )
        body.write(PDF_HEADER)
        remaining = FILE_BYTES - len(PDF_HEADER)
        while remaining:
            piece = os.urandom(min(MB, remaining))  # incompressible, like most real files
            body.write(piece)
            remaining -= len(piece)
        body.write(f"\r\n--{boundary}--\r\n".encode())
    return path.stat().st_size


def _post(server: Server, url: str, body_path: Path, boundary: str, length: int) -> tuple[int, bytes]:
    statuses = []
    with body_path.open("rb") as stream:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": url,
            "QUERY_STRING": "",
            "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
            "CONTENT_LENGTH": str(length),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": stream,
            "wsgi.errors": sys.stderr,
            **server.headers,
        }
        response = Server.application(environ, lambda line, headers, exc_info=None: statuses.append(line))
        content = b"".join(response)
        getattr(response, "close", lambda: None)()
    return int(statuses[0].split()[0]), content


def _peak(function) -> tuple[object, int]:
    tracemalloc.start()
    try:
        value = function()
        return value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _forget(tenant_id: int) -> None:
    """Take the bench's files out again (the dataset stays as the other scenarios expect it)."""
    with connection.cursor() as cursor:
        for table in ("attachments_attachmentchunk", "attachments_historicalattachment", "attachments_attachment"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])


def attachments(ctx: Context) -> list[Result]:
    from customers.models import Customer

    settings.ATTACHMENT_MAX_FILE_BYTES = max(settings.ATTACHMENT_MAX_FILE_BYTES, FILE_BYTES)
    _forget(ctx.tenant.pk)  # what an interrupted run left
    with activate(ctx.tenant):
        customer = Customer.objects.order_by("pk").first()
    api = ctx.api()
    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-attachments-"))
    boundary = uuid.uuid4().hex
    body_path = workdir / "upload.body"
    length = _multipart(body_path, boundary)
    url = f"/api/v1/customers/{customer.pk}/attachments/"
    uploaded: list[int] = []

    def upload():
        status, content = _post(api, url, body_path, boundary, length)
        if status != 201:
            raise RuntimeError(f"upload answered {status}: {content[:300]!r}")
        uploaded.append(int(content.split(b'"id":')[1].split(b",")[0]))

    def download():
        status = api.get(f"/api/v1/attachments/{uploaded[-1]}/")
        if status != 200:
            raise RuntimeError(f"download answered {status}")

    results = []
    try:
        upload()  # warm-up
        for name, function in (("upload", upload), ("download", download)):
            samples = []
            for _ in range(ctx.runs):
                started = time.perf_counter()
                function()
                samples.append(time.perf_counter() - started)
            _value, peak = _peak(function)  # a separate run: tracemalloc slows Python down
            median = statistics.median(samples)
            results.append(
                Result(
                    scenario=f"13. A 10 MB {name} through the API",
                    median=median,
                    minimum=min(samples),
                    maximum=max(samples),
                    note=f"{FILE_BYTES / MB / median:,.0f} MB/s, peak Python memory {peak / MB:.2f} MB",
                    extra={
                        "mb_per_second": FILE_BYTES / MB / median,
                        "peak_bytes": peak,
                        "verdict": "ok (streamed)" if peak < FILE_BYTES / 4 else "MISSED (held in memory)",
                    },
                )
            )
    finally:
        _forget(ctx.tenant.pk)
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def attachments_backup(ctx: Context) -> list[Result]:
    from customers.models import Customer

    with activate(ctx.tenant):
        customer = Customer.objects.order_by("pk").first()
    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-attachments-"))
    try:
        return [_backup_with_files(ctx, customer, workdir)]
    finally:
        _forget(ctx.tenant.pk)
        shutil.rmtree(workdir, ignore_errors=True)


def _backup_with_files(ctx: Context, customer, workdir: Path) -> Result:
    """The backup task against a bare pg_dump, with ~100 MB of files in the database."""
    from attachments.actions import attach_files
    from backups import postgres
    from backups.dump import take_backup

    with activate(ctx.tenant, process="bench:attachments"):
        for n in range(BACKUP_FILES):
            content = PDF_HEADER + os.urandom(FILE_BYTES - len(PDF_HEADER))
            attach_files(customer, [SimpleUploadedFile(f"bench-{n}.pdf", content)], acting_user=None)
    settings.BACKUP_DIR = workdir
    args, env = postgres.connection_args()
    bare_file = workdir / "bare.dump"
    sizes = []

    def ours():
        backup = take_backup()
        if backup.status != "good":
            raise RuntimeError(backup.error)
        sizes.append(backup.size)

    def bare():
        postgres.run([postgres.binary("pg_dump"), "--format=custom", f"--file={bare_file}", *args], env=env)

    runs = min(4, max(2, ctx.runs + ctx.runs % 2))
    result = compare(
        f"13c. Backup with {BACKUP_FILES * FILE_BYTES // MB} MB of attachments vs bare pg_dump",
        ours,
        bare,
        runs=runs,
        warmup=0,
        alternate=True,
        target=1.1,
    )
    result.note = f"dump size {sizes[-1] / 1e6:,.0f} MB; {result.note}"
    return result
