from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Privacy")

    def ready(self):
        from crm.records import registry
        from crm.records.signals import restored_from_backup
        from privacy.receivers import apply_ledger_after_restore

        registry.mount_urls("privacy/", "privacy.urls")
        registry.add_api_urls("privacy.api")
        restored_from_backup.connect(apply_ledger_after_restore, dispatch_uid="privacy.apply_ledger_after_restore")
