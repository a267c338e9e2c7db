"""Company settings -> People (admins change, managers read) and the invitation link's page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from crm.tenancy import actions, people_actions
from crm.tenancy.members import display_name
from crm.tenancy.middleware import SESSION_TENANT_KEY
from crm.tenancy.models import Invitation, Membership
from crm.tenancy.people_forms import AcceptInvitationForm, InviteForm, NewMemberForm, RoleForm
from crm.tenancy.roles import TENANT_ADMIN_ROLES, Role
from crm.web.forms import add_errors


def people_of(tenant):
    """The company's memberships with their users and whether two-factor sign-in is on: one query."""
    two_factor = TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
    return (
        Membership.objects.filter(tenant=tenant)
        .select_related("user")
        .annotate(two_factor=Exists(two_factor))
        .order_by("user__username", "pk")
    )


def pending_invitations(tenant):
    now = timezone.now()
    return Invitation.objects.filter(
        tenant=tenant, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    )


def _require_admin(request):
    if request.membership is None or request.membership.role not in TENANT_ADMIN_ROLES:
        raise PermissionDenied(_("Only administrators may change the company's people."))


def _people_page(request, invite_form=None, new_form=None, created=None, status=200):
    membership = request.membership
    people_actions.require_people_reader(membership)
    context = {
        "tenant": membership.tenant,
        "people": people_of(membership.tenant),
        "invitations": pending_invitations(membership.tenant),
        "can_manage": membership.role in TENANT_ADMIN_ROLES,
        "roles": Role.choices,
        "invite_form": invite_form or InviteForm(),
        "new_form": new_form or NewMemberForm(),
        "created": created,
    }
    return render(request, "tenancy/people.html", context, status=status)


@login_required
def people(request):
    return _people_page(request)


@login_required
@require_POST
def invite(request):
    _require_admin(request)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            people_actions.invite_member(
                request.membership.tenant,
                form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                base_url=request.build_absolute_uri("/"),
                acting_user=request.user,
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("An invitation was sent to %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("tenancy:people")
    return _people_page(request, invite_form=form, status=400)


@never_cache
@login_required
@require_POST
def create_member(request):
    """A new account with a temporary password, shown in this response only (like a new API key)."""
    _require_admin(request)
    form = NewMemberForm(request.POST)
    if form.is_valid():
        try:
            membership, password = people_actions.create_member_with_temporary_password(
                request.membership.tenant, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            created = {"username": membership.user.get_username(), "password": password}
            return _people_page(request, created=created)
    return _people_page(request, new_form=form, status=400)


def _member(request, pk) -> Membership:
    _require_admin(request)
    return get_object_or_404(Membership.objects.select_related("user", "tenant"), pk=pk, tenant=request.tenant)


def _run(request, change, success: str, membership: Membership):
    """Run one change of a member; a refusal (the last admin) is a message on the list, not an error page."""
    try:
        change()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success % {"user": display_name(membership.user)})
    return redirect("tenancy:people")


@login_required
@require_POST
def change_role(request, pk):
    membership = _member(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the roles."))
        return redirect("tenancy:people")
    role = form.cleaned_data["role"]
    return _run(
        request,
        lambda: actions.set_member_role(membership, role, acting_user=request.user),
        _("%(user)s's role was changed."),
        membership,
    )


@login_required
@require_POST
def deactivate(request, pk):
    membership = _member(request, pk)
    return _run(
        request,
        lambda: people_actions.deactivate_member(membership, acting_user=request.user),
        _("%(user)s was deactivated: their sessions and API tokens in this company have ended."),
        membership,
    )


@login_required
@require_POST
def reactivate(request, pk):
    membership = _member(request, pk)
    return _run(
        request,
        lambda: people_actions.reactivate_member(membership, acting_user=request.user),
        _("%(user)s was reactivated."),
        membership,
    )


@login_required
@require_POST
def remove(request, pk):
    membership = _member(request, pk)
    return _run(
        request,
        lambda: actions.remove_member(membership, acting_user=request.user),
        _("%(user)s was removed from the company."),
        membership,
    )


@login_required
@require_POST
def revoke_invitation(request, pk):
    _require_admin(request)
    invitation = get_object_or_404(Invitation, pk=pk, tenant=request.tenant)
    people_actions.revoke_invitation(invitation, acting_user=request.user)
    messages.success(request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email})
    return redirect("tenancy:people")


@never_cache
@require_http_methods(["GET", "POST"])
def accept(request, key):
    """The invitation link: a new account (signed out), or joining with the signed-in account."""
    invitation = people_actions.usable_invitation(key)
    if invitation is None:
        return render(request, "tenancy/invitation_invalid.html", status=410)
    signed_in = request.user.is_authenticated
    form = None if signed_in else AcceptInvitationForm(request.POST or None, initial={"username": ""})
    if request.method == "POST" and (signed_in or form.is_valid()):
        try:
            if signed_in:
                membership = people_actions.accept_invitation(key, acting_user=request.user)
            else:
                membership = people_actions.accept_invitation(
                    key,
                    acting_user=None,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                )
        except ValidationError as error:
            if form is None:
                messages.error(request, " ".join(error.messages))
                return redirect(request.path)
            add_errors(form, error)
        else:
            return _joined(request, membership, signed_in)
    login_url = f"{reverse('login')}?next={request.path}"
    context = {"invitation": invitation, "form": form, "login_url": login_url}
    return render(request, "tenancy/invitation.html", context, status=400 if form is not None and form.errors else 200)


def _joined(request, membership, signed_in):
    tenant = membership.tenant
    if signed_in:
        request.session[SESSION_TENANT_KEY] = tenant.pk
        messages.success(request, _("Welcome to %(tenant)s.") % {"tenant": tenant.name})
        return redirect("dashboard")
    messages.success(
        request, _("Your account was created and you joined %(tenant)s: sign in.") % {"tenant": tenant.name}
    )
    return redirect(reverse("login"))
