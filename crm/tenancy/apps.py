from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "crm.tenancy"
    label = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self):
        from django.core import checks
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from crm.tenancy import mfa, rls, signals  # noqa: F401

        # Row-level security (docs/rls.md): every connection carries the active company;
        # every migrate walls in the tenant tables it added.
        connection_created.connect(rls.install, dispatch_uid="crm.tenancy.rls.install")
        post_migrate.connect(rls.after_migrate, sender=self, dispatch_uid="crm.tenancy.rls.after_migrate")
        checks.register(rls.check_role, checks.Tags.database)
