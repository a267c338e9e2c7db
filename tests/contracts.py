"""Generic page contracts: every record type gets the same browser cases.

A test class declares its record type, URLs and form data, and inherits:
list, query counts, detail, create, edit, bad input, permissions by role,
a rep's own records against another's (object-level rights), cross-tenant
cases, delete with undo from the record page, and deleted records. Every
write is checked for exactly the audit events and history rows it leaves, and
every refusal for its exact status: 403 when the record is visible (or the
role may not act at all), 404 when it is not.
"""

from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from tests.conftest import login
from tests.factories import RecordMaker, make_member
from tests.trail import Trail


class RecordPagesContract:
    record_type = ""  # "customer", "contact", ...
    list_url = ""  # URL name of the list page
    detail_url = ""  # URL name taking the record's pk
    create_url = ""  # URL name of the create page
    edit_url = ""  # URL name taking the record's pk
    text_field = "name"  # a required text field of the form
    kept_field = ""  # another free-text field of the form: its input must survive a failed submit
    roles_that_add = ("admin", "manager", "rep")
    roles_that_change = ("admin", "manager")
    # The create page's answer to a role that may not add here: 403 (the role has no right),
    # or 404 for a page of a customer the role cannot see.
    create_refusals: dict = {}

    # -- what a test class provides -------------------------------------------
    def create_url_args(self, records):
        return []

    def valid_data(self, records) -> dict:
        raise AssertionError("declare valid_data()")

    def make(self, records, **values):
        return records.any(self.record_type, **values)

    def model(self, records):
        return type(self.make(records))

    # -- list ---------------------------------------------------------------
    def test_list_shows_the_records(self, records, admin_user):
        record = self.make(records)
        page = login(admin_user).get(reverse(self.list_url)).content.decode()
        assert str(record) in page

    def test_list_runs_a_constant_number_of_queries(self, records, admin_user):
        client = login(admin_user)
        self.make(records)
        client.get(reverse(self.list_url))  # warm caches (session, content types)
        with CaptureQueriesContext(connection) as few:
            assert client.get(reverse(self.list_url)).status_code == 200
        for _ in range(12):
            self.make(records)
        with CaptureQueriesContext(connection) as many:
            assert client.get(reverse(self.list_url)).status_code == 200
        assert len(many) == len(few), [q["sql"] for q in many.captured_queries]

    def test_list_survives_nonsense_parameters(self, records, admin_user):
        self.make(records)
        client = login(admin_user)
        response = client.get(reverse(self.list_url), {"page_size": "-5", "sort": "nope; drop", "q": "\x00"})
        assert response.status_code == 200
        # No page number: the first page; past the end: the last one (never a 404).
        assert client.get(reverse(self.list_url), {"page": "x"}).context["page_obj"].number == 1
        assert client.get(reverse(self.list_url), {"page": "999999"}).status_code == 200

    # -- detail ---------------------------------------------------------------
    def test_detail_shows_the_record(self, records, admin_user):
        record = self.make(records)
        response = login(admin_user).get(reverse(self.detail_url, args=[record.pk]))
        assert response.status_code == 200
        assert str(record) in response.content.decode()

    def test_another_tenants_record_is_not_found(self, records, other_records, admin_user):
        theirs = self.make(other_records)
        client = login(admin_user)
        assert client.get(reverse(self.detail_url, args=[theirs.pk])).status_code == 404
        assert client.get(reverse(self.edit_url, args=[theirs.pk])).status_code == 404
        assert client.post(reverse(self.edit_url, args=[theirs.pk]), {}).status_code == 404

    def test_a_missing_record_is_not_found(self, admin_user):
        assert login(admin_user).get(reverse(self.detail_url, args=[987654321])).status_code == 404

    # -- create ---------------------------------------------------------------
    def test_create_through_the_form(self, records, admin_user):
        model = self.model(records)
        data = self.valid_data(records)
        client = login(admin_user)
        url = reverse(self.create_url, args=self.create_url_args(records))
        assert client.get(url).status_code == 200
        with Trail(records.tenant) as trail:
            response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        record = model.all_objects.get(**{self.text_field: data[self.text_field]}, tenant=records.tenant)
        assert trail.events == [("create", self.record_type, str(record.pk))]
        assert trail.versions == [(self.record_type, record.pk, "+", "created")]

    def test_invalid_input_keeps_what_was_typed_and_says_why(self, records, admin_user):
        model = self.model(records)
        before = model.all_objects.count()
        data = {**self.valid_data(records), self.text_field: "", self.kept_field: "Typed-and-kept-123"}
        url = reverse(self.create_url, args=self.create_url_args(records))
        response = login(admin_user).post(url, data)
        page = response.content.decode()
        assert response.status_code == 200
        assert "is-invalid" in page and "This field is required" in page
        assert "Typed-and-kept-123" in page
        assert model.all_objects.count() == before

    def test_nul_bytes_are_a_form_error_not_a_server_error(self, records, admin_user):
        data = {**self.valid_data(records), self.text_field: "bad\x00name"}
        url = reverse(self.create_url, args=self.create_url_args(records))
        response = login(admin_user).post(url, data)
        assert response.status_code == 200
        assert "Null characters are not allowed" in response.content.decode()

    @pytest.mark.parametrize("role", ["admin", "manager", "rep", "support", "viewer"])
    def test_create_is_allowed_by_role(self, role, records):
        client = login(make_member(records.tenant, role=role))
        url = reverse(self.create_url, args=self.create_url_args(records))
        expected = 200 if role in self.roles_that_add else self.create_refusals.get(role, 403)
        assert client.get(url).status_code == expected

    # -- edit -----------------------------------------------------------------
    def test_edit_through_the_form(self, records, admin_user):
        record = self.make(records)
        data = {**self.valid_data(records), self.text_field: "Renamed by the edit form"}
        client = login(admin_user)
        url = reverse(self.edit_url, args=[record.pk])
        assert client.get(url).status_code == 200
        with Trail(records.tenant) as trail:
            response = client.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        record.refresh_from_db()
        assert getattr(record, self.text_field) == "Renamed by the edit form"
        assert trail.events == [("update", self.record_type, str(record.pk))]
        assert self.text_field in trail.event_objects[0].detail["fields"]
        assert trail.versions == [(self.record_type, record.pk, "~", "edited")]

    @pytest.mark.parametrize("role", ["admin", "manager", "support", "viewer"])
    def test_edit_is_allowed_by_role(self, role, records):
        record = self.make(records)
        client = login(make_member(records.tenant, role=role))
        url = reverse(self.edit_url, args=[record.pk])
        response = client.get(url)
        if role in self.roles_that_change:
            assert response.status_code == 200
        else:
            assert response.status_code == 403
            before = getattr(record, self.text_field)
            data = {**self.valid_data(records), self.text_field: "Should not stick"}
            with Trail(records.tenant) as trail:
                response = client.post(url, data)
            assert response.status_code == 403
            record.refresh_from_db()
            assert getattr(record, self.text_field) == before
            assert trail.versions == []

    # -- a rep's own records against another rep's (object-level rights) ----------------------
    def test_a_rep_lists_reads_and_changes_own_records_only(self, records):
        rep = make_member(records.tenant, role="rep")
        mine, theirs = self.make(RecordMaker(records.tenant, rep)), self.make(records)
        client = login(rep)
        listed = self.listed_pks(client)
        assert mine.pk in listed and theirs.pk not in listed
        assert client.get(reverse(self.detail_url, args=[mine.pk])).status_code == 200
        assert client.get(reverse(self.detail_url, args=[theirs.pk])).status_code == 404
        edit = reverse(self.edit_url, args=[theirs.pk])
        before = getattr(theirs, self.text_field)
        assert client.get(edit).status_code == 404
        data = {**self.valid_data(RecordMaker(records.tenant, rep)), self.text_field: "Rep's edit"}
        assert client.post(edit, data).status_code == 404
        theirs.refresh_from_db()
        assert getattr(theirs, self.text_field) == before
        with Trail(records.tenant) as trail:
            response = client.post(reverse(self.edit_url, args=[mine.pk]), data)
        assert response.status_code == 302, response.content.decode()[:3000]
        mine.refresh_from_db()
        assert getattr(mine, self.text_field) == "Rep's edit"
        assert trail.events == [("update", self.record_type, str(mine.pk))]

    def test_a_rep_cannot_delete_another_reps_record(self, records):
        rep = make_member(records.tenant, role="rep")
        theirs = self.make(records)
        client = login(rep)
        delete_url = reverse("bin:delete", args=[self.record_type])
        assert client.get(delete_url, {"ids": theirs.pk}).status_code == 404
        with Trail(records.tenant) as trail:
            assert client.post(delete_url, {"ids": str(theirs.pk), "confirm": "1"}).status_code == 403
        assert type(theirs).all_objects.get(pk=theirs.pk).deleted_at is None
        assert [action for action, _type, _id in trail.events] == ["refused"]

    # -- delete, undo and deleted records ------------------------------------------
    def listed_pks(self, client) -> list:
        response = client.get(reverse(self.list_url))
        assert response.status_code == 200
        return [row.pk for row in response.context["object_list"]]

    def test_delete_from_the_detail_page_then_undo(self, records, admin_user):
        record = self.make(records)
        model = type(record)
        detail, list_url = reverse(self.detail_url, args=[record.pk]), reverse(self.list_url)
        delete_url = reverse("bin:delete", args=[self.record_type])
        admin = login(admin_user)

        # The admin sees Delete, leading to the confirmation and back to the list.
        page = admin.get(detail).content.decode()
        assert 'data-testid="delete-button"' in page
        assert f'href="{delete_url}?ids={record.pk}&amp;next={quote(list_url)}"' in page
        # A viewer reads the same page without it.
        viewer = login(make_member(records.tenant, role="viewer"))
        response = viewer.get(detail)
        assert response.status_code == 200
        assert 'data-testid="delete-button"' not in response.content.decode()

        # GET: the confirmation names the record; nothing is deleted yet.
        response = admin.get(delete_url, {"ids": record.pk, "next": list_url})
        assert response.status_code == 200
        confirmation = response.content.decode()
        assert 'data-testid="confirmation"' in confirmation and 'data-testid="confirm-button"' in confirmation
        assert str(record) in confirmation
        assert f'name="next" value="{list_url}"' in confirmation
        assert model.all_objects.filter(pk=record.pk, deleted_at__isnull=True).exists()

        # POST confirm=1: into the bin, back on the list with an Undo button.
        with Trail(records.tenant) as trail:
            response = admin.post(delete_url, {"ids": str(record.pk), "confirm": "1", "next": list_url})
        assert response.status_code == 302 and response.url == list_url
        stored = model.all_objects.get(pk=record.pk)
        assert stored.deleted_at is not None and stored.deletion_batch
        assert trail.events == [("delete", self.record_type, str(record.pk))]
        assert trail.event_objects[0].batch == stored.deletion_batch
        assert trail.versions == [(self.record_type, record.pk, "~", "deleted")]
        response = admin.get(list_url)
        listing = response.content.decode()
        assert 'data-testid="undo-button"' in listing
        assert reverse("bin:undo", args=[stored.deletion_batch]) in listing
        assert record.pk not in [row.pk for row in response.context["object_list"]]
        assert admin.get(detail).status_code == 404
        assert admin.get(reverse(self.edit_url, args=[record.pk])).status_code == 404

        # Undo brings it back, on the page it was pressed on.
        with Trail(records.tenant) as trail:
            response = admin.post(reverse("bin:undo", args=[stored.deletion_batch]), {"next": list_url})
        assert response.status_code == 302 and response.url == list_url
        assert trail.events == [("restore", "", "")] and trail.event_objects[0].batch == stored.deletion_batch
        assert trail.versions == [(self.record_type, record.pk, "~", "restored")]
        assert model.all_objects.filter(pk=record.pk, deleted_at__isnull=True).exists()
        assert admin.get(detail).status_code == 200
        assert record.pk in self.listed_pks(admin)

    def test_a_viewer_cannot_delete(self, records):
        record = self.make(records)
        viewer = login(make_member(records.tenant, role="viewer"))
        delete_url = reverse("bin:delete", args=[self.record_type])
        assert viewer.get(delete_url, {"ids": record.pk}).status_code == 403
        assert viewer.post(delete_url, {"ids": str(record.pk), "confirm": "1"}).status_code == 403
        assert type(record).all_objects.filter(pk=record.pk, deleted_at__isnull=True).exists()

    def test_a_deleted_record_is_not_found_and_not_listed(self, records, admin_user):
        record, kept = self.make(records), self.make(records)
        model = type(record)
        with activate(records.tenant, user=admin_user):
            recyclebin.delete(model.objects.filter(pk=record.pk), acting_user=admin_user)
        client = login(admin_user)
        before = getattr(model.all_objects.get(pk=record.pk), self.text_field)
        assert client.get(reverse(self.detail_url, args=[record.pk])).status_code == 404
        edit = reverse(self.edit_url, args=[record.pk])
        assert client.get(edit).status_code == 404
        data = {**self.valid_data(records), self.text_field: "Edited while in the bin"}
        assert client.post(edit, data).status_code == 404
        assert getattr(model.all_objects.get(pk=record.pk), self.text_field) == before
        listed = self.listed_pks(client)
        assert record.pk not in listed and kept.pk in listed
