"""The browser's side of attachments: upload to a record, download. Removing a file is the
recycle bin's delete page (its confirmation, then the Undo message), like any record."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from attachments import actions
from attachments.models import Attachment, holders
from attachments.serving import file_response
from crm.recyclebin.requests import bin_view
from crm.web.redirects import next_url

HOLDERS_BY_TYPE = {model._meta.model_name: model for model in holders().values()}


@bin_view
@require_POST
def upload(request, record_type, pk):
    """Attach the chosen (or dropped) files to the record, then back to its page."""
    model = HOLDERS_BY_TYPE.get(record_type)
    if model is None:
        raise Http404
    record = actions.attachable(request.user, model, pk)
    try:
        created = actions.attach_files(record, request.FILES.getlist("files"), acting_user=request.user)
    except ValidationError as refused:
        for message in refused.messages:
            messages.error(request, message, extra_tags="attachments")
    else:
        messages.success(
            request,
            ngettext("Attached %(count)s file.", "Attached %(count)s files.", len(created)) % {"count": len(created)},
        )
    return redirect((next_url(request) or record.get_absolute_url().split("#")[0]) + "#attachments")


@bin_view
@require_GET
def download(request, pk):
    return file_response(get_object_or_404(Attachment.objects.for_user(request.user, "view"), pk=pk))
