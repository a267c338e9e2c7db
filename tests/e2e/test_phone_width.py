"""Every page fits a 360 px wide phone: nothing makes the page itself scroll sideways.

Wide content (a table, the pipeline board) scrolls inside its own box; the page does not.
"""

import io

import pytest
from django.core.management import call_command

from crm.records.management.commands.seed_demo import DEMO_PASSWORD
from crm.recyclebin import actions as recyclebin
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from customers.models import Contact, Customer, Interaction, Ticket
from sales.models import Opportunity
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
PAGE_WIDTH = "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
# The innermost elements reaching past the screen's right edge, to say what to fix.
SPILLING = """(width) => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1 && ![...e.children].some(
        c => c.getBoundingClientRect().right > width + 1))
    .slice(0, 3)
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ').join('.') : '')
              + ' "' + (e.textContent || '').trim().slice(0, 40) + '"')"""


@pytest.fixture
def demo_pages(transactional_db):
    call_command("seed_demo", stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="acme")
    admin = tenant.memberships.get(user__username="admin").user
    admin.is_staff = True  # the backups pages too
    admin.save(update_fields=["is_staff"])
    with activate(tenant, user=admin, process="tests"):
        customer = Customer.objects.filter(contacts__isnull=False, interactions__isnull=False).first()
        binned = Customer.objects.exclude(pk=customer.pk).first()
        recyclebin.delete(Customer.objects.filter(pk=binned.pk), acting_user=admin)
        contact = Contact.objects.first()
        interaction = Interaction.objects.first()
        ticket, opportunity = Ticket.objects.first(), Opportunity.objects.first()
    return [
        "/",
        "/accounts/company/",
        "/accounts/preferences/",
        "/customers/",
        "/customers/new/",
        f"/customers/{customer.pk}/",
        f"/customers/{customer.pk}/edit/",
        f"/customers/{customer.pk}/contacts/new/",
        f"/customers/{customer.pk}/interactions/new/",
        "/customers/contacts/",
        f"/customers/contacts/{contact.pk}/",
        f"/customers/contacts/{contact.pk}/edit/",
        "/customers/interactions/",
        f"/customers/interactions/{interaction.pk}/",
        f"/customers/interactions/{interaction.pk}/edit/",
        "/tickets/",
        "/tickets/new/",
        f"/tickets/{ticket.pk}/",
        f"/tickets/{ticket.pk}/edit/",
        "/opportunities/",
        "/opportunities/pipeline/",
        "/opportunities/new/",
        f"/opportunities/{opportunity.pk}/",
        f"/opportunities/{opportunity.pk}/edit/",
        f"/history/customer/{customer.pk}/",
        "/recycle-bin/",
        f"/recycle-bin/customer/{binned.pk}/",
        "/audit/",
        "/backups/",
    ]


def too_wide(page, url) -> str | None:
    response = page.goto(url)
    assert response.status == 200, f"{url}: {response.status}"
    width = page.evaluate(PAGE_WIDTH)
    if width <= PHONE["width"]:
        return None
    return f"{url}: {width} px ({'; '.join(page.evaluate(SPILLING, PHONE['width']))})"


def test_every_page_fits_a_phone(browser, live_server, demo_pages):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, locale="en-US")
    try:
        page = context.new_page()
        assert too_wide(page, "/accounts/login/") is None
        log_in(page, "admin", DEMO_PASSWORD)
        wide = [problem for url in demo_pages if (problem := too_wide(page, url))]
    finally:
        context.close()
    assert not wide, "pages wider than a 360 px phone:\n" + "\n".join(wide)
