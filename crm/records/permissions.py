"""Purge (hard delete) is allowed per object: admins always, managers where an admin granted it."""

from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission, UserObjectPermission
from guardian.shortcuts import get_objects_for_user

from crm.records.models import PurgePermissionBase
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


def end_grants(model, tenant_ids, ids) -> int:
    """Delete every purge grant on records `ids` of `model`: the direct per-object rows and any
    generic guardian rows (users' or groups'). Returns how many grants ended."""
    ids = list(ids)
    if not ids:
        return 0
    ended = 0
    for relation in model._meta.related_objects:
        if issubclass(relation.related_model, PurgePermissionBase):
            direct = relation.related_model.objects.filter(tenant_id__in=list(tenant_ids), content_object_id__in=ids)
            ended += direct.delete()[0]
    content_type = ContentType.objects.get_for_model(model)
    for generic in (UserObjectPermission, GroupObjectPermission):
        rows = generic.objects.filter(content_type=content_type, object_pk__in=[str(pk) for pk in ids])
        ended += rows.delete()[0]
    return ended
