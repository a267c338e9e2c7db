"""What can be imported: the record types, their columns, how a header suggests a column,
and how duplicates are recognised (normalised email, phone digits, name)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Spec:
    name: str  # the model name
    model_path: str
    fields: tuple[str, ...]
    required: tuple[str, ...]
    # Duplicate keys, in the order they are tried: "email", "phone" (digits), "name".
    keys: tuple[str, ...]
    # Duplicates count within one customer (contacts, opportunities), or the whole company.
    scoped_by_customer: bool = False
    name_field: str = "name"  # what the "name" duplicate key compares (a ticket's subject)
    # The function its create action fills derived values with (an owner, a stage's probability):
    # the importer calls the same one for each record it creates, so the two cannot drift.
    new_values: str = ""

    @property
    def model(self):
        from django.apps import apps

        return apps.get_model(self.model_path)

    @property
    def derive(self):
        """`new_values` imported: values -> values with the derived ones filled in (None: none)."""
        return import_string(self.new_values) if self.new_values else None


SPECS = {
    "customer": Spec(
        "customer",
        "customers.Customer",
        (
            "name",
            "kind",
            "email",
            "phone",
            "website",
            "industry",
            "address",
            "tier",
            "status",
            "owner",
            "tags",
            "notes",
        ),
        required=("name",),
        keys=("email", "phone", "name"),
        new_values="customers.actions.new_customer_values",
    ),
    "contact": Spec(
        "contact",
        "customers.Contact",
        ("customer", "name", "title", "email", "phone"),
        required=("customer", "name"),
        keys=("email", "phone", "name"),
        scoped_by_customer=True,
    ),
    "opportunity": Spec(
        "opportunity",
        "sales.Opportunity",
        (
            "customer",
            "name",
            "amount",
            "currency",
            "stage",
            "probability",
            "expected_close_date",
            "owner",
            "lost_reason",
        ),
        required=("customer", "name"),
        keys=("name",),
        scoped_by_customer=True,
        new_values="sales.actions.new_opportunity_values",
    ),
    "ticket": Spec(
        "ticket",
        "customers.Ticket",
        ("customer", "subject", "description", "status", "priority", "assignee", "due_at"),
        required=("customer", "subject"),
        keys=("name",),
        scoped_by_customer=True,
        name_field="subject",
        new_values="customers.actions.new_ticket_values",
    ),
}
TYPE_CHOICES = [
    ("customer", _("Customers")),
    ("contact", _("Contacts")),
    ("opportunity", _("Opportunities")),
    ("ticket", _("Tickets")),
]


def spec_for(name: str) -> Spec | None:
    """The spec for "customer" or "customers" (the command's and the API's spelling)."""
    name = (name or "").strip().lower()
    return SPECS.get(name) or SPECS.get(name[:-1]) or SPECS.get(name.removesuffix("ies") + "y")


# Header spellings (compared in lower case, spaces and _ - alike), English and Chinese.
SYNONYMS = {
    "name": ["name", "full name", "姓名", "名称", "名字"],
    "customer": [
        "customer",
        "customer name",
        "company",
        "company name",
        "account",
        "客户",
        "客户名称",
        "公司",
        "公司名称",
    ],
    "email": ["email", "e-mail", "email address", "mail", "邮箱", "电子邮件", "电子邮箱", "邮件"],
    "phone": ["phone", "telephone", "tel", "mobile", "phone number", "电话", "手机", "手机号", "联系电话", "电话号码"],
    "owner": ["owner", "account owner", "sales rep", "负责人", "所有者", "销售", "跟进人"],
    "website": ["website", "web", "url", "site", "网站", "网址", "官网"],
    "industry": ["industry", "行业"],
    "address": ["address", "地址"],
    "tier": ["tier", "level", "等级", "级别", "客户等级"],
    "status": ["status", "状态"],
    "kind": ["kind", "type", "类型"],
    "tags": ["tags", "tag", "labels", "标签"],
    "notes": ["notes", "note", "comments", "remarks", "备注", "说明"],
    "title": ["title", "job title", "position", "职位", "职务"],
    "amount": ["amount", "value", "金额"],
    "currency": ["currency", "币种", "货币"],
    "stage": ["stage", "阶段"],
    "probability": ["probability", "概率", "赢率"],
    "expected_close_date": ["expected close date", "close date", "预计成交日期", "成交日期"],
    "lost_reason": ["lost reason", "丢单原因"],
    "subject": ["subject", "title", "主题", "标题", "工单主题"],
    "description": ["description", "details", "描述", "详情", "问题描述"],
    "priority": ["priority", "优先级"],
    "assignee": ["assignee", "assigned to", "处理人", "负责人"],
    "due_at": ["due", "due date", "due at", "截止时间", "截止日期", "到期时间"],
}
# What a header names depends on the type: in a customers file "客户名称" is the name.
TYPE_SYNONYMS = {
    "customer": {
        "name": [
            "customer",
            "customer name",
            "company",
            "company name",
            "客户",
            "客户名称",
            "公司",
            "公司名称",
            "客户名",
        ]
    },
    "contact": {"name": ["contact", "contact name", "联系人", "联系人姓名"]},
    "opportunity": {"name": ["opportunity", "deal", "deal name", "商机", "商机名称"]},
}


def _normal(header: str) -> str:
    return " ".join(header.lower().replace("_", " ").replace("-", " ").split())


def suggest(spec: Spec, headers: list[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """{header: field} for the headers we recognise; a field is used once (the first header wins).
    `remembered` ({normalised header: field}, the company's earlier choices) comes first."""
    table: dict[str, str] = {}
    for field in spec.fields:
        for spelling in [field, *SYNONYMS.get(field, [])]:
            table.setdefault(_normal(spelling), field)
    for field, spellings in TYPE_SYNONYMS.get(spec.name, {}).items():
        for spelling in spellings:
            table[_normal(spelling)] = field
    for header, field in (remembered or {}).items():
        if field in spec.fields or field == "":
            table[_normal(header)] = field
    mapping, used = {}, set()
    for header in headers:
        field = table.get(_normal(header))
        if field and field not in used:
            mapping[header] = field
            used.add(field)
    return mapping


def normal_header(header: str) -> str:
    return _normal(header)[:200]
