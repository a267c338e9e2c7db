"""The demo tenant "acme": one user per role and a realistic book of business.

Idempotent: users and memberships are brought to the state below; the
records are created once, when the tenant has no customers yet.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from crm.management.base import CrmCommand
from crm.permissions import Role
from crm.tenancy.actions import add_member
from crm.tenancy.context import activate
from crm.tenancy.models import Tenant
from customers import actions as customer_actions
from customers.models import Customer, Ticket
from sales import actions as sales_actions
from sales.models import Opportunity

DEMO_PASSWORD = "crm-demo-2026"
DEMO_USERS = [
    ("admin", Role.ADMIN),
    ("manager", Role.MANAGER),
    ("rep", Role.REP),
    ("rep2", Role.REP),
    ("support", Role.SUPPORT),
    ("viewer", Role.VIEWER),
]

# (name, kind, industry, tier, status, email domain or person email, phone, contacts)
CUSTOMERS = [
    (
        "Northwind Traders",
        "company",
        "Wholesale",
        "A",
        "active",
        "northwind.example",
        "+1 206 555 0100",
        [("Nancy Davolio", "Purchasing manager"), ("Andrew Fuller", "VP Sales")],
    ),
    (
        "上海星辰科技有限公司",
        "company",
        "Software",
        "A",
        "active",
        "xingchen.example.cn",
        "+86 21 5555 0101",
        [("王伟", "采购经理"), ("李娜", "技术总监")],
    ),
    (
        "Contoso Pharmaceuticals",
        "company",
        "Healthcare",
        "B",
        "active",
        "contoso.example",
        "+44 20 7946 0102",
        [("Priya Patel", "Head of Procurement")],
    ),
    (
        "北京华夏物流",
        "company",
        "Logistics",
        "B",
        "lead",
        "huaxia-logistics.example.cn",
        "+86 10 5555 0103",
        [("张敏", "运营总监"), ("刘洋", "财务经理")],
    ),
    (
        "Fabrikam Manufacturing",
        "company",
        "Manufacturing",
        "B",
        "active",
        "fabrikam.example",
        "+1 312 555 0104",
        [("Carlos Mendes", "Plant manager")],
    ),
    (
        "深圳前海金融服务",
        "company",
        "Financial services",
        "A",
        "lead",
        "qianhai-fin.example.cn",
        "+86 755 5555 0105",
        [("陈静", "合规负责人")],
    ),
    (
        "Adventure Works Cycles",
        "company",
        "Retail",
        "C",
        "churned",
        "adventure-works.example",
        "+1 425 555 0106",
        [("Linda Mitchell", "Store owner")],
    ),
    (
        "杭州绿源农业",
        "company",
        "Agriculture",
        "C",
        "active",
        "lvyuan.example.cn",
        "+86 571 5555 0107",
        [("赵磊", "总经理")],
    ),
    (
        "Tailspin Toys",
        "company",
        "Consumer goods",
        "C",
        "lead",
        "tailspin.example",
        "+1 555 010 0108",
        [("Mia Wong", "Buyer")],
    ),
    (
        "广州南方医疗器械",
        "company",
        "Medical devices",
        "B",
        "active",
        "nanfang-med.example.cn",
        "+86 20 5555 0109",
        [("黄丽", "采购专员"), ("周杰", "销售副总")],
    ),
    ("Emma Schmidt", "person", "Consulting", "C", "active", "emma.schmidt@mail.example", "+49 30 5555 0110", []),
    ("孙悦", "person", "Design", "C", "lead", "sunyue@mail.example.cn", "+86 138 0000 0111", []),
]

OPPORTUNITY_NAMES = ["Annual licence renewal", "Pilot project", "年度服务合同", "Hardware refresh", "扩容采购"]
TICKET_SUBJECTS = [
    ("Cannot log in to the portal", "high"),
    ("发票抬头需要修改", "normal"),
    ("Delivery arrived damaged", "urgent"),
    ("请求培训资料", "low"),
    ("Invoice shows the wrong amount", "normal"),
]
INTERACTION_SUMMARIES = [
    ("call", "Discussed renewal terms and next quarter's volume."),
    ("meeting", "现场拜访，演示了新版本功能，客户反馈积极。"),
    ("email", "Sent the revised proposal with volume discount."),
    ("note", "决策人下月出差，预计月底前回复。"),
]


class Command(CrmCommand):
    help = "Create or refresh the demo tenant 'acme' (idempotent)."

    def handle(self, **options):
        with transaction.atomic():
            tenant, _created = Tenant.objects.get_or_create(slug="acme", defaults={"name": "Acme Corporation"})
            users = {
                username: add_member(tenant, username, role=role, password=DEMO_PASSWORD).user
                for username, role in DEMO_USERS
            }
            with activate(tenant, user=users["admin"], process="cli:seed_demo", reason="seeded"):
                if not Customer.objects.exists():
                    self.create_records(users)
                count = Customer.objects.count()
        self.stdout.write(
            f"Demo tenant acme ready: {count} customers; users "
            + ", ".join(name for name, _role in DEMO_USERS)
            + f" (password {DEMO_PASSWORD})"
        )

    def create_records(self, users):
        rng = random.Random(2026)
        now = timezone.now()
        owners = [users["rep"], users["rep2"], users["manager"]]
        for index, (name, kind, industry, tier, status, email, phone, contacts) in enumerate(CUSTOMERS):
            owner = owners[index % len(owners)]
            customer = customer_actions.create_customer(
                kind=kind,
                name=name,
                email=email if "@" in email else f"info@{email}",
                phone=phone,
                website="" if kind == "person" else f"https://www.{email}",
                industry=industry,
                tier=tier,
                status=status,
                owner=owner,
                tags=rng.sample(["vip", "partner", "重点客户", "export", "华东"], k=2),
            )
            if index % 4 == 0:
                customer_actions.share_customer(customer, users["rep2"] if owner == users["rep"] else users["rep"])
            contact_objects = [
                customer_actions.create_contact(
                    customer, name=contact_name, title=title, email=f"contact{index}{n}@{email.split('@')[-1]}"
                )
                for n, (contact_name, title) in enumerate(contacts)
            ]
            for n in range(2):
                kind_, summary = INTERACTION_SUMMARIES[(index + n) % len(INTERACTION_SUMMARIES)]
                customer_actions.log_interaction(
                    customer,
                    author=owner,
                    contact=contact_objects[0] if contact_objects else None,
                    kind=kind_,
                    summary=summary,
                    occurred_at=now - timedelta(days=rng.randint(0, 30), hours=rng.randint(0, 10)),
                )
            stage = list(Opportunity.Stage.values)[index % len(Opportunity.Stage.values)]
            sales_actions.create_opportunity(
                customer,
                name=OPPORTUNITY_NAMES[index % len(OPPORTUNITY_NAMES)],
                amount=Decimal(rng.randrange(5, 500) * 1000),
                currency="CNY" if index % 2 else "USD",
                stage=stage,
                expected_close_date=(now + timedelta(days=rng.randint(5, 90))).date(),
                owner=owner,
                lost_reason="Chose a cheaper competitor" if stage == Opportunity.Stage.LOST else "",
            )
            if index % 2 == 0:
                subject, priority = TICKET_SUBJECTS[index // 2 % len(TICKET_SUBJECTS)]
                customer_actions.create_ticket(
                    customer,
                    subject=subject,
                    description="",
                    priority=priority,
                    status=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING][index % 3],
                    assignee=users["support"],
                    due_at=now + timedelta(hours=rng.randint(-48, 96)),
                )
