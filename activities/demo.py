"""Demo tasks for `manage.py seed_demo`: a few per demo customer's owner, some overdue, some today."""

from datetime import timedelta

from django.utils import timezone

from activities import actions
from customers.models import Customer

TITLES = ["Call back about the quote", "发送报价单", "Prepare the renewal", "回访客户", "Send the contract"]
DUE_IN_HOURS = [-26, -2, 3, 30, 24 * 5]  # overdue, overdue, today, tomorrow, next week


def seed(tenant, users) -> None:
    now = timezone.now()
    for index, customer in enumerate(Customer.objects.select_related("owner").order_by("pk")[:10]):
        owner = customer.owner or users["manager"]
        actions.create_task(
            title=TITLES[index % len(TITLES)],
            customer=customer,
            due_at=now + timedelta(hours=DUE_IN_HOURS[index % len(DUE_IN_HOURS)]),
            remind_before=60 if index % 2 else None,
            assignee=owner,
            acting_user=owner,
        )
