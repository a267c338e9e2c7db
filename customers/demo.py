"""Demo customers for `manage.py seed_demo`: companies and people with contacts, calls and tickets."""

import random
from datetime import timedelta

from django.utils import timezone

from customers import actions, conversation_actions
from customers.models import Ticket

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

TICKET_SUBJECTS = [
    ("Cannot log in to the portal", "high"),
    ("发票抬头需要修改", "normal"),
    ("Delivery arrived damaged", "urgent"),
    ("请求培训资料", "low"),
    ("Invoice shows the wrong amount", "normal"),
]
# A ticket's conversation: the customer's call logged by the agent, the answer, a note for colleagues.
TICKET_MESSAGES = [
    ("customer", "Called again: the problem is still there this morning."),
    ("reply", "Thank you, we are on it. 我们会在今天下班前给您答复。"),
    ("note", "Checked with the warehouse; replacement ships tomorrow."),
]
INTERACTION_SUMMARIES = [
    ("call", "Discussed renewal terms and next quarter's volume."),
    ("meeting", "现场拜访，演示了新版本功能，客户反馈积极。"),
    ("email", "Sent the revised proposal with volume discount."),
    ("note", "决策人下月出差，预计月底前回复。"),
]


def seed(tenant, users) -> None:
    """Each customer is created by its owner; one in four is shared with the other rep."""
    rng = random.Random(2026)
    now = timezone.now()
    owners = [users["rep"], users["rep2"], users["manager"]]
    for index, (name, kind, industry, tier, status, email, phone, contacts) in enumerate(CUSTOMERS):
        owner = owners[index % len(owners)]
        customer = actions.create_customer(
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
            acting_user=owner,
        )
        if index % 4 == 0:
            other_rep = users["rep2"] if owner == users["rep"] else users["rep"]
            actions.share_customer(customer, other_rep, acting_user=owner)
        contact_objects = [
            actions.create_contact(
                customer,
                name=contact_name,
                title=title,
                email=f"contact{index}{n}@{email.split('@')[-1]}",
                acting_user=owner,
            )
            for n, (contact_name, title) in enumerate(contacts)
        ]
        for n in range(2):
            kind_, summary = INTERACTION_SUMMARIES[(index + n) % len(INTERACTION_SUMMARIES)]
            actions.log_interaction(
                customer,
                contact=contact_objects[0] if contact_objects else None,
                kind=kind_,
                summary=summary,
                occurred_at=now - timedelta(days=rng.randint(0, 30), hours=rng.randint(0, 10)),
                acting_user=owner,
            )
        if index % 2 == 0:
            subject, priority = TICKET_SUBJECTS[index // 2 % len(TICKET_SUBJECTS)]
            ticket = actions.create_ticket(
                customer,
                subject=subject,
                description="",
                priority=priority,
                status=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING][index % 3],
                assignee=users["support"],
                due_at=now + timedelta(hours=rng.randint(-48, 96)),
                acting_user=users["support"],
            )
            if ticket.status != Ticket.Status.NEW:  # a conversation under way
                for message_kind, body in TICKET_MESSAGES:
                    conversation_actions.add_ticket_message(ticket, message_kind, body, acting_user=users["support"])
