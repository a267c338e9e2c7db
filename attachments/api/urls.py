"""/api/v1/{resource}/{id}/attachments/ for each record type that holds files."""

from django.urls import path

from attachments.api.viewsets import RecordAttachmentsView
from attachments.models import holders

urlpatterns = [
    path(
        f"{resource}/<int:pk>/attachments/",
        RecordAttachmentsView.as_view(model=model),
        name=f"{model._meta.model_name}-attachments",
    )
    for resource, model in holders().items()
]
