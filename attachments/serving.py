"""A file as a download: streamed chunk by chunk, never rendered by the browser.

`Content-Disposition: attachment` with the name in RFC 6266's `filename*` (Chinese
names survive), the allow-list's type, `X-Content-Type-Options: nosniff`, and a
sandboxing Content-Security-Policy should a browser open it anyway.
"""

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from attachments import storage


def file_response(attachment) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        storage.read_chunks(attachment.tenant_id, attachment.pk), content_type=attachment.content_type
    )
    response["Content-Length"] = str(attachment.size)
    response["Content-Disposition"] = content_disposition_header(True, attachment.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
