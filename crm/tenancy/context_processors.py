from crm.tenancy.models import Membership


def tenancy(request):
    membership = getattr(request, "membership", None)

    def memberships():
        return Membership.objects.select_related("tenant").filter(user=request.user).order_by("tenant__name")

    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": membership,
        "current_role": membership.role if membership else None,
        "my_memberships": memberships if request.user.is_authenticated else (),
    }
