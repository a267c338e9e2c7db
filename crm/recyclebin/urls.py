"""The recycle bin: /recycle-bin/ (names under the "bin" namespace)."""

from django.urls import path

from crm.recyclebin import purge_views, views

app_name = "bin"

urlpatterns = [
    path("", views.bin_list, name="list"),
    path("delete/<slug:record_type>/", views.delete, name="delete"),
    path("undo/<uuid:batch>/", views.undo, name="undo"),
    path("restore/", views.restore_selected, name="restore"),
    path("purge/", purge_views.purge, name="purge"),
    path("empty/", purge_views.empty, name="empty"),
    path("batch/<uuid:batch>/restore/", views.restore_batch, name="restore_batch"),
    path("<slug:record_type>/<int:pk>/", views.item, name="item"),
    path("<slug:record_type>/<int:pk>/restore/", views.restore_one, name="restore_one"),
    path("<slug:record_type>/<int:pk>/grant/", purge_views.grant_purge, name="grant_purge"),
    path("<slug:record_type>/<int:pk>/revoke/", purge_views.revoke_purge, name="revoke_purge"),
]
