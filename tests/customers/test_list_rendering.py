"""The pieces every list row shows (badges, names, tags, row links) and the list's queries."""

import re
import zoneinfo
from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template, engines
from django.template.loaders import cached
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from crm.tenancy.context import activate
from crm.web import pagination
from crm.web.mixins import permitted_ids
from customers.models import Customer, Ticket
from customers.views.customer_rows import customer_rows
from tests.conftest import login
from tests.factories import make_member


def render(source, **values):
    return Template("{% load crm %}" + source).render(Context(values))


# -- the template tags ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "css", "label"),
    [
        ("A", "text-bg-primary", "Tier A"),
        ("B", "bg-primary-subtle text-primary-emphasis", "Tier B"),
        ("C", "bg-body-secondary text-body-secondary", "Tier C"),
    ],
)
def test_tier_badge(tier, css, label):
    html = render("{% tier_badge customer %}", customer=Customer(tier=tier))
    assert html == f'<span class="badge {css}" data-testid="tier">{label}</span>'


@pytest.mark.parametrize(
    ("status", "css", "label"),
    [
        ("active", "text-bg-success", "Active"),
        ("lead", "bg-info-subtle text-info-emphasis", "Lead"),
        ("churned", "bg-secondary-subtle text-secondary-emphasis", "Churned"),
    ],
)
def test_status_badge(status, css, label):
    html = render("{% status_badge customer %}", customer=Customer(status=status))
    assert html == f'<span class="badge {css}" data-testid="status">{label}</span>'


def test_badges_are_translated():
    with translation.override("zh-hans"):
        html = render("{% tier_badge c %}{% status_badge c %}", c=Customer(tier="A", status="active"))
    with translation.override("zh-hans"):
        expected = [str(Customer.Tier.A.label), str(Customer.Status.ACTIVE.label)]
    assert re.findall(r">([^<]+)</span>", html) == expected
    assert expected != ["Tier A", "Active"]


@pytest.mark.parametrize(
    ("status", "css"),
    [
        ("new", "text-bg-info"),
        ("open", "text-bg-primary"),
        ("pending", "text-bg-warning"),
        ("resolved", "text-bg-success"),
        ("closed", "text-bg-secondary"),
    ],
)
def test_ticket_status_badge(status, css):
    ticket = Ticket(status=status)
    assert render("{% ticket_status_badge ticket %}", ticket=ticket) == (
        f'<span class="badge {css}" data-testid="ticket-status-badge" data-status="{status}">'
        f"{ticket.get_status_display()}</span>"
    )


@pytest.mark.parametrize(
    ("priority", "css"),
    [
        ("urgent", "text-bg-danger"),
        ("high", "text-bg-warning"),
        ("normal", "bg-secondary-subtle text-secondary-emphasis"),
        ("low", "bg-body-tertiary text-body-secondary border"),
    ],
)
def test_ticket_priority_badge(priority, css):
    ticket = Ticket(priority=priority)
    assert render("{% ticket_priority_badge ticket %}", ticket=ticket) == (
        f'<span class="badge {css}" data-testid="ticket-priority-badge" data-priority="{priority}">'
        f"{ticket.get_priority_display()}</span>"
    )


def test_member_shows_the_full_name_else_the_username_else_a_dash(django_user_model):
    named = django_user_model(username="jdoe", first_name="Jane", last_name="<Doe>")
    assert render("{% member_name user %}", user=named) == "Jane &lt;Doe&gt;"
    assert render("{% member_name user %}", user=django_user_model(username="a&b")) == "a&amp;b"
    assert render("{% member_name user %}", user=None) == '<span class="text-body-secondary">—</span>'


def test_tag_links_link_each_tag_to_the_filtered_list():
    html = render("{% tag_links tags %}", tags=["vip", "a&b", "x y", "café"])
    base = reverse("customers:list")
    links = re.findall(r'<a class="([^"]+)" href="([^"]+)" data-testid="tag">([^<]+)</a>', html)
    assert links == [
        ("badge rounded-pill bg-primary-subtle text-primary-emphasis text-decoration-none fw-normal me-1", href, text)
        for href, text in [
            (f"{base}?tag=vip", "vip"),
            (f"{base}?tag=a%26b", "a&amp;b"),
            (f"{base}?tag=x%20y", "x y"),
            (f"{base}?tag=caf%C3%A9", "café"),
        ]
    ]


def test_no_tags_are_nothing_or_a_dash():
    assert render("{% tag_links tags %}", tags=[]) == ""
    assert render("{% tag_links tags show_empty=True %}", tags=[]) == '<span class="text-body-secondary">—</span>'


@pytest.mark.parametrize("name", ["customers:detail", "customers:edit", "tickets:detail", "customers:contact_detail"])
def test_row_url_is_the_reversed_url(name):
    html = render("{% for pk in pks %}{% row_url name pk %} {% endfor %}", name=name, pks=[1, 42, 1234567])
    assert html.split() == [reverse(name, args=[pk]) for pk in (1, 42, 1234567)]


# -- the rows: made in Python, the same as the template markup they replace ------------------------------

ROW_TEMPLATE = """{% load i18n crm %}{% for customer in object_list %}
          <tr data-testid="customer-row" data-pk="{{ customer.pk }}">
            {% if can_change_any %}<td class="ps-3"><input type="checkbox" class="form-check-input" name="ids" \
value="{{ customer.pk }}" aria-label="{% blocktranslate with name=customer.name %}Select {{ name }}{% endblocktranslate %}"\
{% if customer.pk not in changeable_ids %} disabled{% endif %} data-testid="row-select"></td>{% endif %}
            <td>
              <a class="fw-semibold text-decoration-none" href="{% row_url 'customers:detail' customer.pk %}">\
{{ customer.name }}</a>
              {% if customer.kind == "person" %}<span class="badge bg-body-secondary text-body-secondary fw-normal">\
{{ customer.get_kind_display }}</span>{% endif %}{% if customer.shared_with_me %}\
<span class="badge bg-info-subtle text-info-emphasis fw-normal" data-testid="shared-with-me">\
{% translate "Shared with me" %}</span>{% endif %}
              {% if customer.email %}<div class="small text-body-secondary">{{ customer.email }}</div>{% endif %}
            </td>
            <td class="d-none d-md-table-cell text-nowrap">{{ customer.phone|default:"—" }}</td>
            <td>{% tier_badge customer %}</td>
            <td>{% status_badge customer %}</td>
            <td class="text-nowrap">{% member_name customer.owner %}</td>
            <td class="d-none d-lg-table-cell">{% tag_links customer.tags %}</td>
            <td class="d-none d-lg-table-cell text-nowrap small">{{ customer.created_at|date:"SHORT_DATE_FORMAT" }}</td>
            <td class="text-end pe-3">{% if customer.pk in changeable_ids %}<a class="btn btn-sm btn-outline-secondary" \
href="{% row_url 'customers:edit' customer.pk %}">{% translate "Edit" %}</a>{% endif %}</td>
          </tr>
          {% endfor %}"""


@pytest.mark.parametrize(("language", "zone"), [("en", "UTC"), ("zh-hans", "Asia/Shanghai"), ("en", "Pacific/Apia")])
@pytest.mark.parametrize("selectable", [True, False])
def test_rows_are_the_markup_of_the_template_tags(language, zone, selectable, tenant, records, django_user_model):
    owner = make_member(tenant, "oneil", role="rep")
    django_user_model.objects.filter(pk=owner.pk).update(first_name="Zoë", last_name="<O'Neil & Sons>")
    records.customer(name='Acme & <Sons> "Ltd"', kind="person", email="a&b@example.com", phone="", tags=["a&b", "x y"])
    records.customer(name="Plain", owner=owner, tier="A", status="active", tags=[], email="")
    records.customer(name="Nobody's", owner=None, tier="B", status="churned", tags=["café", "vip", "vip2"])
    with activate(tenant), translation.override(language), timezone.override(zoneinfo.ZoneInfo(zone)):
        customers = list(Customer.objects.select_related("owner").order_by("name"))
        Customer.objects.filter(name="Plain").update(created_at=timezone.now() - timedelta(hours=23))
        customers = list(Customer.objects.select_related("owner").order_by("name"))
        changeable = {customers[0].pk, customers[2].pk}
        customers[1].shared_with_me = True  # as the list's own query marks a customer shared with the viewer
        expected = Template(ROW_TEMPLATE).render(
            Context({"object_list": customers, "changeable_ids": changeable, "can_change_any": selectable})
        )
        made = "".join(customer_rows(customers, changeable, selectable=selectable))
    assert made.split("\n") == expected.split("\n")
    assert made.count("disabled") == (1 if selectable else 0)
    assert made.count('data-testid="shared-with-me"') == 1


# -- the list's queries ---------------------------------------------------------------------------------


def count_queries(queries):
    """The list's own count (the header's bell counts unread notifications too)."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT COUNT(*)") and '"customers_customer"' in q["sql"]
    ]


def pk_queries(queries):
    """permitted_ids: `SELECT id AS pk ... WHERE id IN (...)`."""
    return [q["sql"] for q in queries.captured_queries if '"pk" FROM "customers_customer"' in q["sql"]]


def test_an_admin_may_change_every_listed_row_without_asking_the_database(records, admin_user):
    customers = [records.customer() for _ in range(3)]
    client = login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("customers:list")).content.decode()
    assert pk_queries(queries) == []
    for customer in customers:
        assert f'href="{reverse("customers:edit", args=[customer.pk])}"' in page
    assert " disabled" not in re.search(r"<tbody>.*</tbody>", page, flags=re.S).group(0)


def test_permitted_ids_asks_the_database_when_the_rights_differ(tenant, records, admin_user):
    agent = make_member(tenant, "agent", role="support")
    mine, other = records.ticket(assignee=agent), records.ticket()
    with activate(tenant, user=agent, process="tests"):
        rows = list(Ticket.objects.for_user(agent).order_by("pk"))
        assert permitted_ids(agent, Ticket, rows, "view") == {mine.pk, other.pk}
        assert permitted_ids(agent, Ticket, rows, "change") == {mine.pk, other.pk}
        with CaptureQueriesContext(connection) as queries:
            assert permitted_ids(agent, Ticket, rows, "delete") == {mine.pk}
        assert [q["sql"] for q in queries.captured_queries if 'AS "pk" FROM "customers_ticket"' in q["sql"]]
        assert permitted_ids(agent, Customer, list(Customer.objects.for_user(agent)), "change") == set()


def test_a_rep_may_change_only_the_rows_the_rules_allow(tenant, records):
    rep = make_member(tenant, "rep-one", role="rep")
    own = records.customer(name="Own", owner=rep)
    records.customer(name="Someone else's")
    with activate(tenant, user=rep, process="tests"):
        everyone = list(Customer.all_objects.order_by("pk"))
        assert permitted_ids(rep, Customer, everyone, "change") == {own.pk}


def test_the_unfiltered_list_counts_along_its_index_order(records, admin_user):
    for letter in "ABC":
        records.customer(name=f"Customer {letter}")
    client = login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("customers:list"), {"page_size": 2}).content.decode()
    assert "1–2 of 3" in page
    [count] = count_queries(queries)
    assert "ORDER BY" in count and "LIMIT 10001" in count


@pytest.mark.parametrize("query", [{"tier": "A"}, {"q": "customer"}, {"sort": "-created"}, {"sort": "tier"}])
def test_filtered_or_resorted_lists_count_without_an_order(query, records, admin_user):
    for letter in "ABC":
        records.customer(name=f"Customer {letter}", tier="A")
    with CaptureQueriesContext(connection) as queries:
        page = login(admin_user).get(reverse("customers:list"), {"page_size": 2, **query}).content.decode()
    assert "1–2 of 3" in page
    [count] = count_queries(queries)
    assert "ORDER BY" not in count


def test_a_reps_list_counts_without_an_order(tenant, records):
    rep = make_member(tenant, "rep-one", role="rep")
    for letter in "ABC":
        records.customer(name=f"Customer {letter}", owner=rep)
    records.customer(name="Not mine")
    with CaptureQueriesContext(connection) as queries:
        page = login(rep).get(reverse("customers:list"), {"page_size": 2}).content.decode()
    assert "1–2 of 3" in page
    [count] = count_queries(queries)
    assert "ORDER BY" not in count


def test_the_ordered_count_stops_at_the_cap(records, admin_user, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    for _ in range(7):
        records.customer()
    with CaptureQueriesContext(connection) as queries:
        page = login(admin_user).get(reverse("customers:list"), {"page_size": 2}).content.decode()
    assert "1–2 of more than 5" in page
    [count] = count_queries(queries)
    assert "ORDER BY" in count and "LIMIT 6" in count


def test_the_list_asks_the_database_only_what_the_page_shows(records, admin_user):
    for _ in range(3):
        records.customer()
    client = login(admin_user)
    client.get(reverse("customers:list"))
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("customers:list")).content.decode()
    assert page.count(f'<option value="{admin_user.pk}"') == 2  # in the owner filter and in "Assign owner"
    asked = [re.search(r'FROM "(\w+)"', query["sql"]).group(1) for query in queries.captured_queries]
    assert asked == [
        "django_session",
        "auth_user",  # the signed-in user
        "tenancy_membership",  # all of their memberships: the page's company and the switcher, one query
        # The list's saved views, with EXISTS(... FROM savedviews_defaultview) marking my default:
        # one query (crm.savedviews.lists).
        "savedviews_defaultview",
        "customers_customer",  # the capped count
        "customers_customer",  # the page, with its owners
        "customers_customershare",  # which of the page's customers are shared with me
        "auth_user",  # the company's members: the owner filter's choices, and "Assign owner" shows the same
        "activities_notification",  # the header's bell: unread notifications, one count
    ], [query["sql"] for query in queries.captured_queries]


def test_templates_come_from_the_cached_loader():
    loaders = engines["django"].engine.template_loaders
    assert loaders and all(isinstance(loader, cached.Loader) for loader in loaders)


@pytest.mark.parametrize("url", ["customers:list", "tickets:list", "sales:list"])
def test_a_list_reads_its_people_filter_without_a_server_side_cursor(url, records, admin_user):
    """QuerySet.iterator() would open a cursor (DECLARE, FETCH, CLOSE) for a dozen names."""
    records.customer(owner=admin_user)
    with CaptureQueriesContext(connection) as queries:
        page = login(admin_user).get(reverse(url)).content.decode()
    assert f'<option value="{admin_user.pk}"' in page
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DECLARE")]


def test_a_form_reads_its_people_without_a_server_side_cursor(records, admin_user):
    customer = records.customer(owner=admin_user)
    with CaptureQueriesContext(connection) as queries:
        page = login(admin_user).get(reverse("customers:edit", args=[customer.pk])).content.decode()
    assert f'<option value="{admin_user.pk}" selected' in page
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DECLARE")]
