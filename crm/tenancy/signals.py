from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal, receiver

from crm.tenancy.middleware import SESSION_LANGUAGE_KEY, SESSION_PASSWORD_CHANGE_KEY, SESSION_TIME_ZONE_KEY
from crm.tenancy.models import PasswordChangeRequired, UserPreference

# Sent by crm.tenancy.account_actions.change_password and reset_password, in their transaction:
# sender=the User class, user, keep_tokens (bool: the person asked to keep their API tokens;
# False after a reset). Otherwise their tokens end (end_api_tokens below).
password_changed = Signal()


@receiver(user_logged_in)
def load_preferences(sender, request, user, **kwargs):
    """Keep the user's language and time zone in the session, read by the middleware."""
    preference = UserPreference.objects.filter(user=user).first()
    if preference and preference.language:
        request.session[SESSION_LANGUAGE_KEY] = preference.language
    if preference and preference.time_zone:
        request.session[SESSION_TIME_ZONE_KEY] = preference.time_zone
    if PasswordChangeRequired.objects.filter(user=user).exists():
        request.session[SESSION_PASSWORD_CHANGE_KEY] = True


@receiver(password_changed, dispatch_uid="crm.tenancy.signals.end_api_tokens")
def end_api_tokens(sender, user, keep_tokens=False, **kwargs):
    from crm.tenancy.actions import end_user_api_tokens

    if not keep_tokens:
        end_user_api_tokens(user, acting_user=user, reason="password_changed")


@receiver(password_changed, dispatch_uid="crm.tenancy.signals.temporary_password_replaced")
def temporary_password_replaced(sender, user, **kwargs):
    """Part of the password change action: a temporary password, once replaced, is no longer asked about."""
    PasswordChangeRequired.objects.filter(user=user).delete()
