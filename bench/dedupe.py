"""The duplicate check at entry (查重) on the big company: under 50 ms p50 (issue #18), index-backed.

One check looks up a new customer's email, phone and name among the company's alive customers,
as the customer form does before saving (customers.duplicates.check): one indexed query per key
(the unique index on lower(email); btree indexes on the phone's digits and on upper(name)),
then the matches and which of them the person may see. The note holds each key's EXPLAIN.
"""

from __future__ import annotations

import statistics

from bench.timing import Result, timed
from crm.tenancy.context import activate
from customers import duplicates
from customers.models import Customer

TARGET_SECONDS = 0.050
INDEXES = {"email": "customer_tenant_email_ci_uniq", "phone": "customer_phone_key", "name": "customer_name_key"}


def _alive_number(size: int) -> int:
    """A customer number of bench/data.py that is alive and named "... Ltd" (not deleted: n % 5)."""
    number = size // 2
    while number % 5 == 0 or number % 3 == 0:
        number += 1
    return number


def dedupe(ctx) -> list[Result]:
    tenant, size = ctx.tenant, ctx.dataset.sizes["bench-big"]
    number = _alive_number(size)
    # As a person types them: other case, other spacing, the phone written another way.
    values = {
        "name": f"customer  {number:08d} LTD",
        "email": f"C{number}@T{tenant.pk}.example.com",
        "phone": f"+86 (21) {number % 100_000_000:08d}",
    }
    plans, verdict = [], "ok (index)"
    with activate(tenant, user=ctx.admin, process="bench:dedupe"):
        for kind in duplicates.KINDS:
            key = duplicates.normalise(kind, values[kind])
            plan = duplicates.key_rows(Customer.objects.all(), kind, [key]).explain()
            plans.append(f"{kind}: " + " / ".join(line.strip() for line in plan.splitlines()[:2]))
            if INDEXES[kind] not in plan:
                verdict = f"MISSED ({kind}: no index)"

        def run():
            matches = duplicates.check(Customer, values, user=ctx.admin)
            assert {match.kind for match in matches} == set(duplicates.KINDS), matches

        samples = timed(run, runs=max(ctx.runs, 20))
    median = statistics.median(samples)
    if median > TARGET_SECONDS and verdict.startswith("ok"):
        verdict = "SLOW (over 50 ms)"
    return [
        Result(
            scenario=f"Duplicate check at entry: email, phone, name among {size:,} customers",
            median=median,
            minimum=min(samples),
            maximum=max(samples),
            note=" | ".join(plans),
            extra={"verdict": verdict},
        )
    ]
