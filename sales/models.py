from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.history.tracing import TracedHistory
from crm.records.models import PurgePermissionBase, soft_delete_indexes, tenant_foreign_key
from crm.tenancy.models import TenantModel
from customers.models import CustomerChild
from customers.search import trigram_indexes

CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", _("Use a three-letter ISO 4217 code, such as CNY or USD."))


class Opportunity(CustomerChild):
    class Stage(models.TextChoices):
        LEAD = "lead", _("Lead")
        QUALIFIED = "qualified", _("Qualified")
        PROPOSAL = "proposal", _("Proposal")
        NEGOTIATION = "negotiation", _("Negotiation")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    CLOSED_STAGES = (Stage.WON, Stage.LOST)
    OPEN_STAGES = (Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL, Stage.NEGOTIATION)
    # Probability suggested when a deal enters a stage (the user may override it).
    STAGE_PROBABILITY = {"lead": 10, "qualified": 25, "proposal": 50, "negotiation": 75, "won": 100, "lost": 0}

    name = models.CharField(_("name"), max_length=200)
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY", validators=[CURRENCY_VALIDATOR])
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.LEAD)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=10, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("owner"),
        db_index=False,
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Why a deal was lost: one of the company's LostReason labels (kept as text: renaming the list
    # later does not rewrite closed deals) and/or free text. One of them is required on "lost".
    lost_reason_choice = models.CharField(_("lost reason (from the list)"), max_length=100, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = TracedHistory()

    class Meta(CustomerChild.Meta):
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        permissions = [("purge_opportunity", "Can permanently delete opportunity")]
        ordering = ["expected_close_date", "id"]
        default_related_name = "opportunities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=100), name="opportunity_probability_range"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="opportunity_amount_non_negative"),
        ]
        indexes = [
            *soft_delete_indexes("opportunity"),
            models.Index(fields=["tenant", "stage", "owner"], name="opportunity_tenant_stage"),
            models.Index(fields=["tenant", "customer"], name="opportunity_tenant_customer"),
            models.Index(fields=["tenant", "owner", "stage"], name="opportunity_tenant_owner"),
            *trigram_indexes("opportunity", ["name"]),  # the list's (and global search's) `q`
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sales:detail", args=[self.pk])

    @property
    def is_closed(self):
        return self.stage in self.CLOSED_STAGES


class OpportunityPurgePermission(PurgePermissionBase):
    content_object = tenant_foreign_key(Opportunity, on_delete=models.CASCADE)

    class Meta(PurgePermissionBase.Meta):
        indexes = [models.Index(fields=["tenant", "content_object"], name="opportunitypurge_object")]


class LostReason(TenantModel):
    """A company's short list of reasons offered when a deal is lost (a company setting)."""

    label = models.CharField(_("reason"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta(TenantModel.Meta):
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "label"], name="lostreason_label_uniq")]

    def __str__(self):
        return self.label
