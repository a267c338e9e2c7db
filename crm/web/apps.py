import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "crm.web"
    label = "web"
    verbose_name = _("Web pages")

    def ready(self):
        from crm.web.errors import OneLineRefusals

        # On the handlers: Django logs refusals on django.request and on one django.security.<Error>
        # logger per kind of error, and a logger's own filters do not see its children's records.
        refusals = OneLineRefusals()
        for logger in (logging.getLogger(), logging.getLogger("django")):
            for handler in logger.handlers:
                handler.addFilter(refusals)
