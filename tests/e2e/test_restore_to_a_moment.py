"""Restore to a moment in Chromium: a company admin picks a date and time in their own time zone,
confirms, and follows the restore's progress page (the recovery itself is tests/backups/test_point_in_time.py's)."""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from backups.models import BaseBackup, RestoreRun
from crm.celery import app
from crm.tenancy.models import UserPreference
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture
def window_open(tmp_path):
    """A good base backup from an hour ago: the window opens there (its files are not read here)."""
    at = timezone.now() - timedelta(hours=1)
    BaseBackup.objects.create(status=BaseBackup.Status.GOOD, started_at=at, finished_at=at, path=str(tmp_path))


def test_an_admin_picks_a_moment_in_their_time_zone_and_follows_the_restore(page, live_server, admin, window_open):
    UserPreference.objects.create(user=admin, time_zone="Asia/Shanghai")
    moment = (timezone.now() - timedelta(minutes=5)).astimezone(SHANGHAI).replace(microsecond=0)
    app.control.purge()
    try:
        log_in(page, admin.username)
        page.goto("/backups/")
        page.get_by_test_id("restore-moment-link").click()
        expect(page).to_have_url(re.compile(r"/backups/restore-to-a-moment/$"))
        expect(page.get_by_test_id("moment-window")).to_contain_text("can be brought back")
        page.fill("#id_moment", moment.strftime("%Y-%m-%dT%H:%M:%S"))
        page.check("input[name=scope][value=tenant]")
        page.get_by_test_id("moment-continue").click()
        expect(page.get_by_test_id("confirm-statement")).to_contain_text("E2E Trading")
        page.get_by_test_id("confirm-button").click()

        expect(page).to_have_url(re.compile(r"/backups/restores/\d+/$"))
        expect(page.get_by_test_id("restore-moment")).to_be_visible()
        expect(page.get_by_test_id("restore-phase")).to_contain_text("waiting for a worker")
        run = RestoreRun.objects.get()
        assert run.moment == moment and run.scope == RestoreRun.Scope.TENANT and run.backup is None
    finally:
        app.control.purge()  # the queued restore never reaches a later test's worker
