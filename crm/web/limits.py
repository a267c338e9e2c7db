"""Bodies over the limit are refused before anything reads them: 413, with the API's JSON error
body under /api/ and a plain page elsewhere. The limit is DATA_UPLOAD_MAX_MEMORY_SIZE
(env MAX_REQUEST_BODY_BYTES), which Django also applies to bodies sent without a length; a
multipart upload may reach MAX_UPLOAD_BODY_BYTES (its files are streamed to temporary files by
Django's upload handlers, never held in memory; its other fields keep the first limit)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from crm.api.errors import error_body


def body_limit(request) -> int:
    """One rule for every upload (attachments, imports): a multipart body may be large."""
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return max(settings.MAX_UPLOAD_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large(request) -> HttpResponse:
    message = _("The request body is larger than the limit of %(limit)s.") % {
        "limit": filesizeformat(body_limit(request))
    }
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("request_too_large", message), status=413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class BodySizeLimit:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > body_limit(request):
            return too_large(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        return too_large(request) if isinstance(exception, RequestDataTooBig) else None
