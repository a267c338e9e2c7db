"""An import: the uploaded file, its mapping, the plan per row (the preview), and what it wrote.

The rows (ImportRow) are the preview and, once applied, the record of what each line did:
the id it created or updated and the values an update replaced, which revert puts back.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records.models import tenant_foreign_key
from crm.tenancy.models import TenantModel


class Import(TenantModel):
    class Mode(models.TextChoices):
        CREATE = "create", _("Create new records only")
        UPDATE = "update", _("Update existing records only")
        UPSERT = "upsert", _("Update existing, create the rest")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PREVIEWING = "previewing", _("Checking the rows")
        PREVIEWED = "previewed", _("Ready to import")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        REVERTED = "reverted", _("Reverted")

    record_type = models.CharField(_("record type"), max_length=30)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.CREATE)
    # In create mode: create rows that look like an existing record or an earlier line anyway
    # (not by email: an address belongs to one record), tagged as a possible duplicate.
    allow_duplicates = models.BooleanField(_("create possible duplicates"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UPLOADED)
    filename = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(_("file"))
    encoding = models.CharField(_("encoding"), max_length=40, blank=True)
    headers = models.JSONField(_("columns"), default=list)
    mapping = models.JSONField(_("mapping"), default=dict)  # {column header: field name}
    total = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    message = models.TextField(_("message"), blank=True)
    revert_batch = models.UUIDField(_("recycle-bin batch of the revert"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("imported by"),
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    reverted_at = models.DateTimeField(_("reverted"), null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="import_tenant_recent")]

    def __str__(self):
        return f"{self.filename} ({self.pk})"

    @property
    def in_progress(self) -> bool:
        return self.status in (self.Status.PREVIEWING, self.Status.RUNNING)


class ImportRow(TenantModel):
    class Outcome(models.TextChoices):
        CREATE = "create", _("create")
        UPDATE = "update", _("update")
        SKIP = "skip", _("skip")
        ERROR = "error", _("error")

    batch = tenant_foreign_key(Import, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(_("line"))
    outcome = models.CharField(_("outcome"), max_length=6, choices=Outcome.choices)
    reason = models.TextField(_("reason"), blank=True)
    record_id = models.BigIntegerField(_("record"), null=True, blank=True)
    values = models.JSONField(default=dict)  # the converted values to write
    before = models.JSONField(default=dict)  # an update: the values it replaced
    written_at = models.DateTimeField(null=True, blank=True)  # an update: the record's updated_at after it
    cells = models.JSONField(default=list)  # the line as read, for the failed-rows file

    class Meta(TenantModel.Meta):
        ordering = ["line"]
        constraints = [models.UniqueConstraint(fields=["tenant", "batch", "line"], name="importrow_line_uniq")]


class ImportMapping(TenantModel):
    """The company's remembered mapping: column header (lower case) -> field, per record type."""

    record_type = models.CharField(max_length=30)
    header = models.CharField(max_length=200)
    field = models.CharField(max_length=60)

    class Meta(TenantModel.Meta):
        constraints = [
            models.UniqueConstraint(fields=["tenant", "record_type", "header"], name="importmapping_header_uniq")
        ]
