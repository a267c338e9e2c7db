import logging

from django.apps import AppConfig
from django.core.exceptions import SuspiciousOperation
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    name = "crm.web"
    label = "web"
    verbose_name = _("Web pages")

    def ready(self):
        from crm.web.errors import OneLineRefusals

        # Django logs refusals on django.request and on one django.security.<Error> logger per kind of
        # suspicious request; a logger's filters do not see its children's records, so each gets it.
        refusals = OneLineRefusals()
        for name in [
            "request",
            "security.csrf",
            *(f"security.{kind.__name__}" for kind in _kinds(SuspiciousOperation)),
        ]:
            logging.getLogger(f"django.{name}").addFilter(refusals)


def _kinds(error) -> list[type]:
    return [error, *(kind for sub in error.__subclasses__() for kind in _kinds(sub))]
