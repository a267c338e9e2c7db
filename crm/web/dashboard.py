"""The dashboard: the panels apps registered (crm.records.registry.DashboardPanel), for one user.

Each panel's data is a bounded list (the newest or most urgent few) with its
total count, so the page costs the same number of queries however much data a
company has. A panel whose `context(user)` returns None is left out.

Panels in the "welcome" column are for a company that has nothing yet: when one
of them has data, the page shows only those (the first steps) instead of a
dashboard of zeros, and the other panels are not computed.
"""

from datetime import datetime, time, timedelta

from django.utils import timezone

from crm.records.registry import dashboard_panels

COLUMNS = ("welcome", "top", "left", "right")


def end_of_today():
    today = timezone.localdate()
    return timezone.make_aware(datetime.combine(today + timedelta(days=1), time.min))


def for_user(user) -> dict:
    """The page's context: every shown panel's data, and {"panels": {column: [template, ...]}}."""
    context: dict = {"today": timezone.localdate(), "panels": {column: [] for column in COLUMNS}}
    panels = dashboard_panels()
    welcome = [panel for panel in panels if panel.column == "welcome"]
    _add(context, welcome, user)
    if not context["panels"]["welcome"]:
        _add(context, [panel for panel in panels if panel.column != "welcome"], user)
    return context


def _add(context: dict, panels, user) -> None:
    for panel in panels:
        data = panel.context(user)
        if data is None:
            continue
        context.update(data)
        context["panels"][panel.column].append(panel.template)
