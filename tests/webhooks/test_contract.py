"""The generic page contract (tests/contracts.py) for webhooks, a type only administrators work:
the cases written for a rep's own records and a viewer's reading become their admin-only form."""

from urllib.parse import quote

from django.urls import reverse

from tests.conftest import login
from tests.contracts import RecordPagesContract
from tests.factories import make_member
from tests.trail import Trail
from webhooks.models import Endpoint


class TestEndpointPages(RecordPagesContract):
    record_type = "endpoint"
    list_url = "webhooks:list"
    detail_url = "webhooks:detail"
    create_url = "webhooks:create"
    edit_url = "webhooks:edit"
    text_field = "name"
    kept_field = "url"
    roles_that_add = ("admin",)
    roles_that_change = ("admin",)

    def valid_data(self, records) -> dict:
        return {
            "name": "Contract hook",
            "url": "http://127.0.0.1:9/in",
            "preset": "generic",
            "events": ["customer.created"],
            "language": "en",
            "active": "on",
        }

    def test_a_rep_lists_reads_and_changes_own_records_only(self, records):
        """A rep has no webhooks of their own: every page is a 403, nothing changes."""
        endpoint = self.make(records)
        client = login(make_member(records.tenant, role="rep"))
        assert client.get(reverse(self.list_url)).status_code == 403
        assert client.get(reverse(self.detail_url, args=[endpoint.pk])).status_code == 403
        with Trail(records.tenant) as trail:
            response = client.post(reverse(self.edit_url, args=[endpoint.pk]), self.valid_data(records))
        assert response.status_code == 403 and trail.versions == []

    def test_delete_from_the_detail_page_then_undo(self, records, admin_user):
        """As the contract's, with a viewer refused the page itself (webhooks are admins' only)."""
        endpoint = self.make(records)
        detail, list_url = reverse(self.detail_url, args=[endpoint.pk]), reverse(self.list_url)
        delete_url = reverse("bin:delete", args=[self.record_type])
        admin = login(admin_user)
        page = admin.get(detail).content.decode()
        assert f'href="{delete_url}?ids={endpoint.pk}&amp;next={quote(list_url)}"' in page
        assert login(make_member(records.tenant, role="viewer")).get(detail).status_code == 403

        with Trail(records.tenant) as trail:
            response = admin.post(delete_url, {"ids": str(endpoint.pk), "confirm": "1", "next": list_url})
        assert response.status_code == 302 and response.url == list_url
        stored = Endpoint.all_objects.get(pk=endpoint.pk)
        assert trail.events == [("delete", self.record_type, str(endpoint.pk))]
        assert trail.versions == [(self.record_type, endpoint.pk, "~", "deleted")]
        assert reverse("bin:undo", args=[stored.deletion_batch]) in admin.get(list_url).content.decode()
        assert admin.get(detail).status_code == 404

        with Trail(records.tenant) as trail:
            response = admin.post(reverse("bin:undo", args=[stored.deletion_batch]), {"next": list_url})
        assert response.status_code == 302
        assert trail.versions == [(self.record_type, endpoint.pk, "~", "restored")]
        assert admin.get(detail).status_code == 200

    def test_a_rep_cannot_delete_another_reps_record(self, records):
        """A rep's role has no right on webhooks at all: a 403, as for a viewer (not the 404 of a
        record type they work but cannot see)."""
        endpoint = self.make(records)
        client = login(make_member(records.tenant, role="rep"))
        delete_url = reverse("bin:delete", args=[self.record_type])
        assert client.get(delete_url, {"ids": endpoint.pk}).status_code == 403
        assert client.post(delete_url, {"ids": str(endpoint.pk), "confirm": "1"}).status_code == 403
        assert Endpoint.all_objects.get(pk=endpoint.pk).deleted_at is None
