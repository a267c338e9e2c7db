from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Backup(models.Model):
    """One pg_dump of the whole database. "good" only after every check passed."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        GOOD = "good", _("good")
        FAILED = "failed", _("failed")
        PRUNED = "pruned", _("removed by retention")
        BAD = "bad", _("failed verification")

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        MANUAL = "manual", _("manual")
        PRE_RESTORE = "pre_restore", _("before a restore")
        POINT_IN_TIME = "point_in_time", _("recovered to a moment")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SCHEDULED)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    phase = models.CharField(_("phase"), max_length=100, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration = models.FloatField(_("duration (s)"), null=True, blank=True)
    path = models.CharField(_("file"), max_length=500, blank=True)
    size = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    copy_location = models.CharField(_("second copy"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The operating-system account that ran `manage.py backup_now` ("" when not started from the command line).
    os_user = models.CharField(_("command line user"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "-started_at"], name="backup_status_time")]

    def __str__(self):
        return f"Backup {self.pk} ({self.get_status_display()})"


class RestoreDrill(models.Model):
    """A backup restored into a scratch database and compared with its manifest."""

    backup = models.ForeignKey(Backup, on_delete=models.CASCADE, related_name="drills")
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    restore_seconds = models.FloatField(_("restore time (s)"), null=True, blank=True)
    passed = models.BooleanField(_("passed"), null=True)
    mismatches = models.JSONField(_("mismatches"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("restore drill")
        verbose_name_plural = _("restore drills")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Drill {self.pk} of backup {self.backup_id}"


class RestoreRun(models.Model):
    """A restore of one tenant or one customer from a backup, with its progress."""

    class Scope(models.TextChoices):
        DATABASE = "database", _("whole database into a new database")
        TENANT = "tenant", _("one company")
        CUSTOMER = "customer", _("one customer")

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        REFUSED = "refused", _("refused: conflicts")

    # A restore to a moment has no backup until the worker recovered the database to `moment` (backups/pitr.py).
    backup = models.ForeignKey(Backup, on_delete=models.PROTECT, null=True, blank=True, related_name="restores")
    moment = models.DateTimeField(_("as it was at"), null=True, blank=True)
    tenant = models.ForeignKey("tenancy.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    target = models.CharField(_("target"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    phase = models.CharField(_("phase"), max_length=100, blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    safety_backup = models.ForeignKey(Backup, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    report = models.JSONField(_("report"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("restore")
        verbose_name_plural = _("restores")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-started_at"], name="restorerun_tenant_time")]

    def __str__(self):
        return f"Restore {self.pk} ({self.scope} {self.target})"


class BaseBackup(models.Model):
    """A physical copy of the whole cluster (pg_basebackup): with the archived WAL after it, the
    database as it was at any moment since (point-in-time recovery, backups/pitr.py)."""

    Status = Backup.Status

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"))
    # The earliest moment this copy can be recovered to: when pg_basebackup finished.
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    path = models.CharField(_("directory"), max_length=500, blank=True)
    size = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    # The first WAL segment recovery from this copy reads: older archived segments serve only older copies.
    first_segment = models.CharField(max_length=24, blank=True)
    # sha256 of its backup_manifest, which holds the sha256 of every file (pg_verifybackup checks them).
    sha256 = models.CharField(max_length=64, blank=True)
    copy_location = models.CharField(_("second copy"), max_length=500, blank=True)
    # An incremental base backup holds only what changed since `parent` (pg_basebackup --incremental,
    # PostgreSQL 17+); recovery combines the chain back to a full one (pg_combinebackup).
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("based on")
    )
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    os_user = models.CharField(_("command line user"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("base backup")
        verbose_name_plural = _("base backups")
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Base backup {self.pk} ({self.get_status_display()})"

    def chain(self) -> list["BaseBackup"]:
        """The full base backup this one builds on, then each incremental up to this one."""
        chain = [self]
        while chain[0].parent_id is not None:
            chain.insert(0, chain[0].parent)
        return chain
