"""Bodies over the limit are refused before anything reads them: 413, with the API's JSON error
body under /api/ and a plain page elsewhere. The limit is DATA_UPLOAD_MAX_MEMORY_SIZE
(env MAX_REQUEST_BODY_BYTES), which Django also applies to bodies sent without a length; an app may
allow larger uploads under a path of its own (crm.records.registry.allow_uploads)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from crm.api.errors import error_body
from crm.records.registry import body_limit


def too_large(request) -> HttpResponse:
    message = _("The request body is larger than the limit of %(limit)s.") % {
        "limit": filesizeformat(body_limit(request.path, settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
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
        if length > body_limit(request.path, settings.DATA_UPLOAD_MAX_MEMORY_SIZE):
            return too_large(request)
        return self.get_response(request)

    def process_exception(self, request, exception):
        return too_large(request) if isinstance(exception, RequestDataTooBig) else None
