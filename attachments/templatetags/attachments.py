"""`{% attachments_section record %}`: the Attachments card of a customer, contact, opportunity or ticket."""

from django import template
from django.conf import settings

from attachments import actions, filetypes
from attachments.models import Attachment
from crm.web.mixins import permitted_ids

register = template.Library()

SHOWN = 100  # the newest files on the page; the API lists them all


@register.inclusion_tag("attachments/_section.html", takes_context=True)
def attachments_section(context, record):
    user = context["request"].user
    visible = Attachment.objects.for_user(user, "view")
    files = list(visible.on(record).select_related("uploaded_by").order_by("-created_at", "-id")[: SHOWN + 1])
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "record": record,
        "record_type": record._meta.model_name,
        "attachments": files[:SHOWN],
        "more": len(files) > SHOWN,
        "deletable": permitted_ids(user, Attachment, files[:SHOWN], "delete", shown=visible),
        "can_attach": actions.may_attach(user, record),
        "max_file_bytes": settings.ATTACHMENT_MAX_FILE_BYTES,
        "accept": ",".join(f".{extension}" for extension in filetypes.allowed_extensions()),
    }
