"""Demo opportunities for `manage.py seed_demo`: one per demo customer, across every stage."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from customers.models import Customer
from sales import actions
from sales.models import Opportunity

OPPORTUNITY_NAMES = ["Annual licence renewal", "Pilot project", "年度服务合同", "Hardware refresh", "扩容采购"]
LOST_REASONS = ["Price", "Chose a competitor", "No budget", "Timing"]


def seed(tenant, users) -> None:
    rng = random.Random(2026)
    now = timezone.now()
    stages = list(Opportunity.Stage.values)
    actions.set_lost_reasons(LOST_REASONS, acting_user=users["admin"])
    for index, customer in enumerate(Customer.objects.select_related("owner").order_by("pk")):
        owner = customer.owner or users["manager"]
        stage = stages[index % len(stages)]
        actions.create_opportunity(
            customer,
            name=OPPORTUNITY_NAMES[index % len(OPPORTUNITY_NAMES)],
            amount=Decimal(rng.randrange(5, 500) * 1000),
            currency="CNY" if index % 2 else "USD",
            stage=stage,
            expected_close_date=(now + timedelta(days=rng.randint(5, 90))).date(),
            owner=owner,
            lost_reason_choice=LOST_REASONS[index % len(LOST_REASONS)] if stage == Opportunity.Stage.LOST else "",
            acting_user=owner,
        )
