from django.urls import reverse

from reports.catalogue import REPORTS
from tests.conftest import login


def test_every_report_page_renders(pipeline, admin_user):
    client = login(admin_user)
    for slug in REPORTS:
        response = client.get(reverse("reports:report", args=[slug]))
        assert response.status_code == 200, (slug, response.content[:3000])
    assert client.get(reverse("dashboard")).status_code == 200
