"""/api/v1/saved-views/: the resource contract, plus what is special about saved views:
private or shared, only whoever saved one changes it, and each person's default per list."""

from crm.savedviews.models import SavedView
from tests.api.conftest import error_of
from tests.api.test_resources import ResourceContract
from tests.factories import RecordMaker
from tests.trail import Trail


class TestSavedViews(ResourceContract):
    path = "saved-views"
    record_type = "savedview"
    model = SavedView

    def create_data(self, records):
        return {"list_name": "customers:list", "name": "Active A accounts", "query": "status=active&tier=A"}

    def foreign_reference(self, other_records):
        return {"list_name": "no-such:list"}  # a view names a list of this site, nothing of another company

    def test_a_viewer_reads_but_may_not_write(self, api_as, records):
        # The contract's record is the admin's private view, which only they see: a shared one here.
        viewer = api_as("viewer")
        record = self.make(records, shared=True)
        assert viewer.get(self.url(record.pk)).status_code == 200
        error_of(viewer.post(self.url(), self.create_data(records), format="json"), 403)
        error_of(viewer.patch(self.url(record.pk), {"name": "x"}, format="json"), 403)
        error_of(viewer.delete(self.url(record.pk)), 403)
        assert self.stored(records.tenant, record.pk).deleted_at is None

    def test_another_persons_private_view_is_a_404_and_a_shared_one_is_read_only(self, api_as, records):
        rep = api_as("rep")
        private = self.make(records)
        shared = self.make(records, shared=True)
        listed = {row["id"] for row in rep.get(self.url()).json()["results"]}
        assert shared.pk in listed and private.pk not in listed
        error_of(rep.get(self.url(private.pk)), 404)
        error_of(rep.post(self.url(private.pk, "default/")), 404)
        assert rep.get(self.url(shared.pk)).json()["user"] == records.actor.pk
        with Trail(records.tenant) as trail:
            error_of(rep.patch(self.url(shared.pk), {"name": "Mine now"}, format="json"), 403)
        assert trail.versions == []

    def test_the_query_is_kept_without_page_or_view_and_the_url_opens_the_list(self, api, records):
        data = {**self.create_data(records), "query": "?status=active&page=3&view=9&sort=-name"}
        body = api.post(self.url(), data, format="json").json()
        assert body["query"] == "status=active&sort=-name"
        assert body["url"] == f"/customers/?status=active&sort=-name&view={body['id']}"

    def test_an_unknown_list_a_duplicate_name_or_a_nul_is_a_400(self, api, records):
        error_of(
            api.post(self.url(), {**self.create_data(records), "list_name": "customers:detail"}, format="json"), 400
        )
        assert api.post(self.url(), self.create_data(records), format="json").status_code == 201
        error = error_of(api.post(self.url(), self.create_data(records), format="json"), 400)
        assert "name" in error["fields"]
        error_of(api.post(self.url(), {**self.create_data(records), "query": "q=a\x00"}, format="json"), 400)

    def test_a_default_per_person_and_list_set_and_cleared_with_audit(self, api, api_as, records):
        first, second = self.make(records), self.make(records, shared=True)
        with Trail(records.tenant) as trail:
            assert api.post(self.url(first.pk, "default/")).json()["is_default"] is True
            assert api.post(self.url(second.pk, "default/")).json()["is_default"] is True
        assert [event[0] for event in trail.events] == ["settings", "settings"]
        defaults = {row["id"]: row["is_default"] for row in api.get(self.url()).json()["results"]}
        assert defaults == {first.pk: False, second.pk: True}  # one default per list
        rep = api_as("rep")
        assert not any(row["is_default"] for row in rep.get(self.url()).json()["results"])  # mine, not theirs
        assert api.delete(self.url(second.pk, "default/")).status_code == 204
        assert not any(row["is_default"] for row in api.get(self.url()).json()["results"])

    def test_a_rep_saves_and_deletes_their_own_view_into_their_bin(self, api_as, records):
        rep = api_as("rep")
        mine = self.make(RecordMaker(records.tenant, rep.user))
        assert rep.delete(self.url(mine.pk)).status_code == 204
        listed = rep.get("/api/v1/recycle-bin/", {"type": "savedview"}).json()["results"]
        assert [row["id"] for row in listed] == [mine.pk]
