"""The tenant-scoped managers fail closed and never leak across tenants."""

import pytest
from django.test import Client

from crm.tenancy.context import NoTenantError, activate, current_tenant_or_none
from customers.models import Contact, Customer, Interaction, Ticket
from sales.models import Opportunity
from tests.conftest import login
from tests.factories import RECORD_TYPES

SCOPED_MODELS = [Customer, Contact, Interaction, Ticket, Opportunity]


@pytest.mark.django_db
@pytest.mark.parametrize("model", SCOPED_MODELS, ids=lambda m: m.__name__)
def test_scoped_manager_raises_without_an_active_tenant(model):
    with pytest.raises(NoTenantError):
        list(model.objects.all())
    with pytest.raises(NoTenantError):
        model.objects.count()


@pytest.mark.parametrize("model_name", RECORD_TYPES)
def test_scoped_manager_returns_only_the_active_tenants_rows(model_name, records, other_records):
    mine = records.any(model_name)
    theirs = other_records.any(model_name)
    model = type(mine)
    with activate(records.tenant):
        assert list(model.objects.values_list("pk", flat=True)) == [mine.pk]
        assert not model.objects.filter(pk=theirs.pk).exists()
    with activate(other_records.tenant):
        assert list(model.objects.values_list("pk", flat=True)) == [theirs.pk]


def test_all_objects_manager_is_for_system_code_and_sees_every_tenant(records, other_records):
    records.customer()
    other_records.customer()
    assert Customer.all_objects.count() == 2


def test_new_rows_take_the_active_tenant(in_tenant, admin_user):
    customer = Customer.objects.create(name="Created in context", owner=admin_user)
    assert customer.tenant == in_tenant


def test_a_child_cannot_be_attached_to_another_tenants_customer(records, other_records):
    foreign_customer = other_records.customer()
    with activate(records.tenant), pytest.raises(ValueError):
        Contact(customer=foreign_customer, name="Mallory", tenant=records.tenant).save()


def test_the_context_is_cleared_after_each_request(tenant, admin_user):
    client = login(admin_user)
    assert client.get("/").status_code == 200
    assert current_tenant_or_none() is None


def test_the_context_is_cleared_after_an_api_token_request(tenant, admin_user):
    from crm.tenancy.actions import api_token_for

    token = api_token_for(tenant, admin_user.username, acting_user=None)
    response = Client().get("/api/v1/whoami/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["tenant"] == tenant.slug
    assert current_tenant_or_none() is None
