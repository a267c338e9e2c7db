"""Global search: one box across customers, contacts, opportunities, tickets and tasks, through each
list's restricting read and its own `q` filter (names, emails, phone digits, Chinese), grouped by type."""

import pytest
from django.urls import reverse

from crm.tenancy.context import activate
from crm.tenancy.models import Membership
from customers.actions import share_customer
from search.engine import PER_TYPE, search
from tests.api.conftest import error_of, token_client
from tests.conftest import login
from tests.factories import RecordMaker, make_member

pytestmark = pytest.mark.django_db


def found(groups) -> dict[str, list[str]]:
    """{type: [labels]} of the groups that found something."""
    return {group["type"]: [row["label"] for row in group["results"]] for group in groups if group["results"]}


def searched(user, q):
    """What `user` finds for `q`, in their company."""
    with activate(Membership.objects.get(user=user).tenant, user=user, process="tests"):
        return search(user, q)


def api_found(response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.content[:2000]
    return found(response.json()["groups"])


@pytest.fixture
def acme(records):
    customer = records.customer(name="Acme Trading", email="buyer@acme.example", phone="+1 (206) 555-0142")
    records.contact(customer, name="Wile Coyote", email="wile@acme.example", phone="+1 206 555 0199")
    records.opportunity(customer, name="Acme rocket skates")
    records.ticket(customer, subject="Acme anvil arrived broken")
    records.task(customer=customer, title="Call Acme about the anvil")
    records.customer(name="Unrelated Ltd", email="someone@elsewhere.example")
    return customer


def test_a_name_finds_every_type_and_the_results_are_grouped_by_type(acme, client, admin_user):
    client = login(admin_user)
    page = client.get(reverse("search:results"), {"q": "acme"})
    assert page.status_code == 200
    html = page.content.decode()
    for kind in ("customer", "contact", "opportunity", "ticket", "task"):
        assert f'data-testid="search-group-{kind}"' in html
    assert "Unrelated Ltd" not in html
    with_admin = found(searched(admin_user, "acme"))
    assert with_admin["customer"] == ["Acme Trading"]
    assert with_admin["contact"] == ["Wile Coyote"]  # by its customer's name, as the contact list searches
    assert with_admin["opportunity"] == ["Acme rocket skates"]
    assert with_admin["ticket"] == ["Acme anvil arrived broken"]
    assert with_admin["task"] == ["Call Acme about the anvil"]


def test_emails_and_phone_digits_find_customers_and_contacts(acme, admin_user):
    assert found(searched(admin_user, "buyer@acme"))["customer"] == ["Acme Trading"]
    assert found(searched(admin_user, "WILE@ACME.example")) == {"contact": ["Wile Coyote"]}
    # A phone written any way: its digits are searched.
    assert found(searched(admin_user, "206-555-0142")) == {"customer": ["Acme Trading"]}
    assert found(searched(admin_user, "(206) 5550199")) == {"contact": ["Wile Coyote"]}


def test_chinese_names_are_found_with_three_characters_and_with_one_or_two(records, admin_user):
    customer = records.customer(name="北京华为技术有限公司", email="cn@example.com")
    records.contact(customer, name="张伟")
    records.customer(name="上海贸易", email="sh@example.com")
    assert found(searched(admin_user, "华为技术")) == {"customer": ["北京华为技术有限公司"], "contact": ["张伟"]}
    assert found(searched(admin_user, "张伟")) == {"contact": ["张伟"]}
    assert found(searched(admin_user, "贸")) == {"customer": ["上海贸易"]}


def test_a_rep_finds_only_what_they_can_see_in_the_page_and_the_api(records, tenant, acme):
    rep = make_member(tenant, "rita", role="rep")
    as_rep = RecordMaker(tenant, rep)
    mine = as_rep.customer(name="Acme North", owner=rep)
    as_rep.task(customer=mine, title="Acme North kickoff")
    shared = records.customer(name="Acme Shared")
    records._run(share_customer, shared, rep)
    expected = {"customer": ["Acme North", "Acme Shared"], "task": ["Acme North kickoff"]}
    assert found(searched(rep, "acme")) == expected
    assert api_found(token_client(tenant, rep).get("/api/v1/search/", {"q": "acme"})) == expected
    html = login(rep).get(reverse("search:results"), {"q": "acme"}).content.decode()
    assert "Acme Trading" not in html and "Acme North" in html


def test_support_does_not_search_the_pipeline(acme, tenant):
    support = make_member(tenant, "sam", role="support")
    groups = searched(support, "acme")
    assert "opportunity" not in [group["type"] for group in groups]
    assert found(groups)["ticket"] == ["Acme anvil arrived broken"]


def test_another_company_never_shows(acme, other_records, other_tenant):
    other_records.customer(name="Acme Beta")
    client = token_client(other_tenant, other_records.actor)
    assert api_found(client.get("/api/v1/search/", {"q": "acme"})) == {"customer": ["Acme Beta"]}


def test_deleted_records_are_not_found(records, admin_user):
    from crm.recyclebin.actions import delete

    customer = records.customer(name="Gone Corp")
    with activate(records.tenant, user=admin_user, process="tests"):
        delete(type(customer).objects.filter(pk=customer.pk), acting_user=admin_user)
    assert found(searched(admin_user, "gone corp")) == {}


def test_the_api_answers_groups_with_ids_labels_and_both_urls(acme, api):
    body = api.get("/api/v1/search/", {"q": "acme trading"}).json()
    assert body["q"] == "acme trading"
    customers = next(group for group in body["groups"] if group["type"] == "customer")
    row = customers["results"][0]
    assert row == {
        "id": acme.pk,
        "label": "Acme Trading",
        "detail": "buyer@acme.example · +1 (206) 555-0142",
        "url": reverse("customers:detail", args=[acme.pk]),
        "api_url": f"/api/v1/customers/{acme.pk}/",
    }
    assert api.get(row["api_url"]).status_code == 200
    assert customers["more"] is False and customers["see_all"] == "/customers/?q=acme+trading"


@pytest.mark.parametrize(
    "params", [{}, {"q": ""}, {"q": "   "}, {"q": "x" * 101}, {"q": "a\x00b"}, {"q": "a", "x": "1"}]
)
def test_an_empty_too_long_or_odd_query_is_a_400_with_a_json_error(api, params):
    error_of(api.get("/api/v1/search/", params), 400)


def test_the_page_answers_a_too_long_query_with_a_message_not_a_500(admin_user):
    response = login(admin_user).get(reverse("search:results"), {"q": "x" * 500})
    assert response.status_code == 400 and 'data-testid="search-error"' in response.content.decode()


def test_five_per_type_with_see_all_linking_to_the_filtered_list(records, admin_user):
    for n in range(PER_TYPE + 2):
        records.customer(name=f"Globex {n}")
    (customers,) = [group for group in searched(admin_user, "globex") if group["type"] == "customer"]
    assert len(customers["results"]) == PER_TYPE and customers["more"] is True
    listed = login(admin_user).get(customers["see_all"]).content.decode()
    assert listed.count("Globex ") >= PER_TYPE + 2


def test_one_query_per_type_however_many_records_match(records, admin_user, django_assert_max_num_queries):
    for n in range(3):
        customer = records.customer(name=f"Initech {n}", email=f"i{n}@initech.example")
        records.contact(customer, name=f"Initech person {n}")
        records.opportunity(customer, name=f"Initech deal {n}")
        records.ticket(customer, subject=f"Initech ticket {n}")
        records.task(customer=customer, title=f"Initech task {n}")
    client = token_client(records.tenant, admin_user)
    client.get("/api/v1/search/", {"q": "initech"})  # warm caches (membership, token)
    # Authentication and the tenant take a few queries; the search itself one per type (5).
    with django_assert_max_num_queries(5 + 6) as captured:
        assert api_found(client.get("/api/v1/search/", {"q": "initech"}))["task"]
    few = len(captured)
    for n in range(3, 12):
        records.customer(name=f"Initech {n}")
    with django_assert_max_num_queries(few):
        client.get("/api/v1/search/", {"q": "initech"})


def test_the_header_has_the_search_box_and_the_dropdown_answers_htmx(acme, admin_user):
    client = login(admin_user)
    dashboard = client.get("/").content.decode()
    assert 'data-testid="global-search"' in dashboard and "crm/search.js" in dashboard
    fragment = client.get(reverse("search:results"), {"q": "acme"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "Acme Trading" in fragment
