"""Purge (hard delete) is allowed per object: admins always, managers where an admin granted it."""

from guardian.shortcuts import get_objects_for_user

from crm.tenancy.roles import Role


def purge_permission(model) -> str:
    """The per-object permission that allows purging a record of `model`."""
    return f"{model._meta.app_label}.purge_{model._meta.model_name}"


def purgeable(membership, queryset):
    """The rows of `queryset` the member may purge: admins all, managers where granted, others none."""
    if membership is None:
        return queryset.none()
    if membership.role == Role.ADMIN:
        return queryset
    if membership.role == Role.MANAGER:
        return get_objects_for_user(
            membership.user,
            purge_permission(queryset.model),
            klass=queryset,
            accept_global_perms=False,
            with_superuser=False,
        )
    return queryset.none()
