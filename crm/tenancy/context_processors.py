from crm.tenancy.roles import Role


def tenancy(request):
    membership = getattr(request, "membership", None)
    memberships = getattr(request, "memberships", ())  # loaded by TenantMiddleware: no query here

    def tenant_switcher():
        # Plain values for the switcher in base.html: each role's label is translated once.
        labels = {role: str(label) for role, label in Role.choices}
        return [
            {
                "slug": m.tenant.slug,
                "name": m.tenant.name,
                "role": labels.get(m.role, m.role),
                "current": membership is not None and m.tenant_id == membership.tenant_id,
            }
            for m in memberships
        ]

    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": membership,
        "current_role": membership.role if membership else None,
        "my_memberships": memberships,
        "tenant_switcher": tenant_switcher,
    }
