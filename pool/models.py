"""The public pool's two ledgers: who claimed which customer when, and which owners were warned.

The pool itself is no table: it is the company's alive customers without an owner
(customers.Customer.owner NULL), read through pool.listing. These ledgers are
bookkeeping (like shares, not records): not in the recycle bin, not restored with a
company; a purged customer takes its rows with it (the purge follows the named reverse
relations: a hidden one, related_name="+", it would not see).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.records.models import tenant_foreign_key
from crm.tenancy.models import TenantModel


class PoolClaim(TenantModel):
    """One claim of a pool customer: counts towards the claimer's daily limit, and starts their hold."""

    customer = tenant_foreign_key("customers.Customer", on_delete=models.CASCADE, related_name="pool_claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    claimed_at = models.DateTimeField(_("claimed at"))

    class Meta(TenantModel.Meta):
        verbose_name = _("pool claim")
        verbose_name_plural = _("pool claims")
        indexes = [
            models.Index(fields=["tenant", "user", "claimed_at"], name="poolclaim_user_day"),
            models.Index(fields=["tenant", "customer", "user", "claimed_at"], name="poolclaim_customer"),
        ]


class PoolWarning(TenantModel):
    """The owner was told the customer is about to return to the pool (once per idle spell)."""

    customer = tenant_foreign_key("customers.Customer", on_delete=models.CASCADE, related_name="pool_warnings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    warned_at = models.DateTimeField(_("warned at"))

    class Meta(TenantModel.Meta):
        verbose_name = _("pool warning")
        verbose_name_plural = _("pool warnings")
        indexes = [models.Index(fields=["tenant", "customer", "user", "warned_at"], name="poolwarning_customer")]
