"""Saved views on every list page: save the current filters and sort under a name, private or shared,
pick one from the list header, make one my default (opening the list bare applies it)."""

import pytest
from django.urls import reverse

from crm.savedviews.models import SavedView
from crm.tenancy.context import activate
from tests.conftest import login
from tests.factories import RecordMaker, make_member
from tests.trail import Trail

pytestmark = pytest.mark.django_db

LISTS = [
    "customers:list",
    "customers:contact_list",
    "customers:interaction_list",
    "sales:list",
    "tickets:list",
    "tasks:list",
    "bin:list",
]


def save(client, list_name, name, query, shared=False):
    data = {"list_name": list_name, "name": name, "query": query}
    if shared:
        data["shared"] = "on"
    return client.post(reverse("savedviews:save"), data)


def stored(tenant, **filters) -> SavedView:
    with activate(tenant):
        return SavedView.all_objects.get(tenant=tenant, **filters)


@pytest.mark.parametrize("list_name", LISTS)
def test_every_list_saves_its_filters_and_sort_and_opens_them_again(list_name, records, admin_user):
    client = login(admin_user)
    page = client.get(reverse(list_name), {"q": "renewal", "sort": "-name"}).content.decode()
    assert 'data-testid="saved-views"' in page and 'value="q=renewal&amp;sort=-name"' in page
    with Trail(records.tenant) as trail:
        response = save(client, list_name, "Renewals", "q=renewal&sort=-name&page=2")
    view = stored(records.tenant, name="Renewals")
    assert view.query == "q=renewal&sort=-name" and view.list_name == list_name and not view.shared
    assert response.status_code == 302 and response["Location"] == view.get_absolute_url()
    assert trail.events == [("create", "savedview", str(view.pk))]
    assert [version[:3] for version in trail.versions] == [("savedview", view.pk, "+")]
    # Picking it in the header's select sends ?view=<id> alone: the list opens with its filters.
    picked = client.get(reverse(list_name), {"view": view.pk})
    assert picked.status_code == 302 and picked["Location"] == view.get_absolute_url()
    shown = client.get(view.get_absolute_url()).content.decode()
    assert f'<option value="{view.pk}" selected>Renewals' in shown


def test_the_default_view_applies_when_the_list_opens_without_filters(records, admin_user):
    client = login(admin_user)
    save(client, "customers:list", "Active", "status=active")
    view = stored(records.tenant, name="Active")
    client.post(reverse("savedviews:default", args=[view.pk]))
    opened = client.get(reverse("customers:list"))
    assert opened.status_code == 302 and opened["Location"] == f"/customers/?status=active&view={view.pk}"
    # "All records" (?view=) and any filter of one's own open the list as asked.
    assert client.get(reverse("customers:list"), {"view": ""}).status_code == 200
    assert client.get(reverse("customers:list"), {"tier": "A"}).status_code == 200
    # Another list and another person are not affected.
    assert client.get(reverse("tickets:list")).status_code == 200
    assert login(make_member(records.tenant, "carl", role="manager")).get(reverse("customers:list")).status_code == 200
    client.post(reverse("savedviews:clear_default", args=[view.pk]))
    assert client.get(reverse("customers:list")).status_code == 200


def test_a_shared_view_is_offered_to_colleagues_and_a_private_one_is_not(records, admin_user, tenant):
    client = login(admin_user)
    save(client, "customers:list", "My private view", "tier=A")
    save(client, "customers:list", "Team view", "tier=B", shared=True)
    private, shared = stored(tenant, name="My private view"), stored(tenant, name="Team view")
    rep = make_member(tenant, "rita", role="rep")
    other = login(rep)
    page = other.get(reverse("customers:list"), {"view": ""}).content.decode()
    assert "Team view" in page and "My private view" not in page
    # Someone else's private view is a 404 wherever it is named; a shared one is theirs to use, not to change.
    assert other.get(reverse("customers:list"), {"view": private.pk}).status_code == 200  # not picked: unknown
    for name in ("savedviews:change", "savedviews:delete", "savedviews:default"):
        assert other.post(reverse(name, args=[private.pk]), {"name": "x"}).status_code == 404
    assert other.post(reverse("savedviews:change", args=[shared.pk]), {"name": "Stolen"}).status_code == 302
    assert stored(tenant, pk=shared.pk).name == "Team view"
    assert other.post(reverse("savedviews:default", args=[shared.pk])).status_code == 302
    assert other.get(reverse("customers:list"))["Location"] == shared.get_absolute_url()


def test_another_companys_views_never_show(records, other_records, admin_user):
    theirs = other_records.savedview(name="Beta view", shared=True)
    client = login(admin_user)
    assert "Beta view" not in client.get(reverse("customers:list"), {"view": ""}).content.decode()
    assert client.post(reverse("savedviews:default", args=[theirs.pk])).status_code == 404


def test_rename_share_refilter_and_delete_into_the_bin(records, admin_user, tenant):
    client = login(admin_user)
    save(client, "tickets:list", "Urgent", "priority=urgent")
    view = stored(tenant, name="Urgent")
    with Trail(tenant) as trail:
        client.post(reverse("savedviews:change", args=[view.pk]), {"name": "Urgent ones", "shared": "on"})
    assert trail.events == [("update", "savedview", str(view.pk))]
    client.post(reverse("savedviews:change", args=[view.pk]), {"query": "priority=high&sort=due_at"})
    view = stored(tenant, pk=view.pk)
    assert (view.name, view.shared, view.query) == ("Urgent ones", True, "priority=high&sort=due_at")
    response = client.post(reverse("savedviews:delete", args=[view.pk]))
    assert response.status_code == 302
    assert stored(tenant, pk=view.pk).deleted_at is not None
    bin_page = client.get(reverse("bin:list")).content.decode()
    assert "Urgent ones" in bin_page
    assert "Urgent ones" not in client.get(reverse("tickets:list"), {"view": ""}).content.decode()


def test_bad_input_is_a_message_not_a_500(records, admin_user, tenant):
    client = login(admin_user)
    for data in (
        {"list_name": "customers:list", "name": ""},
        {"list_name": "nope", "name": "x"},
        {"list_name": "customers:list", "name": "x", "query": "q=\x00"},
        {"list_name": "customers:list", "name": "y" * 300},
        {"list_name": "customers:list", "name": "z", "query": "q=" + "a" * 3000},
    ):
        response = client.post(reverse("savedviews:save"), data, follow=True)
        assert response.status_code == 200 and "alert-danger" in response.content.decode(), data
    assert not SavedView.all_objects.filter(tenant=tenant).exists()
    assert client.get(reverse("savedviews:save")).status_code == 405


def test_a_viewer_picks_shared_views_but_saves_none(records, admin_user, tenant):
    records.savedview(name="Company view", shared=True)
    viewer = login(make_member(tenant, "vera", role="viewer"))
    assert "Company view" in viewer.get(reverse("customers:list"), {"view": ""}).content.decode()
    save(viewer, "customers:list", "Mine", "tier=A")
    assert not SavedView.all_objects.filter(tenant=tenant, name="Mine").exists()


def test_the_list_reads_its_saved_views_in_one_query_however_many(records, admin_user, django_assert_max_num_queries):
    client = login(admin_user)
    records.savedview(name="First")
    client.get(reverse("customers:list"), {"view": ""})
    with django_assert_max_num_queries(100) as few:
        client.get(reverse("customers:list"), {"view": ""})
    for n in range(8):
        records.savedview(name=f"More {n}", shared=n % 2 == 0)
        RecordMaker(records.tenant, make_member(records.tenant, role="rep")).savedview(name=f"Theirs {n}", shared=True)
    with django_assert_max_num_queries(len(few)):
        page = client.get(reverse("customers:list"), {"view": ""}).content.decode()
    assert page.count("Theirs ") == 8


def test_the_recycle_bin_opens_with_its_default_view_and_shows_only_what_it_filters(records, admin_user):
    from crm.recyclebin import actions as recyclebin
    from customers.models import Customer

    kept, other = records.customer(name="Umbrella"), records.customer(name="Initech")
    with activate(records.tenant, user=admin_user):
        recyclebin.delete(Customer.objects.filter(pk__in=[kept.pk, other.pk]), acting_user=admin_user)
    client = login(admin_user)
    save(client, "bin:list", "Umbrella only", "q=Umbrella")
    view = stored(records.tenant, name="Umbrella only")
    client.post(reverse("savedviews:default", args=[view.pk]))

    opened = client.get(reverse("bin:list"))
    assert opened.status_code == 302 and opened["Location"] == view.get_absolute_url()
    shown = client.get(view.get_absolute_url()).content.decode()
    assert "Umbrella" in shown and "Initech" not in shown
    everything = client.get(reverse("bin:list"), {"view": ""}).content.decode()
    assert "Umbrella" in everything and "Initech" in everything
