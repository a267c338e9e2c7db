from django.urls import path

from activities import views

app_name = "notifications"

urlpatterns = [
    path("", views.NotificationListView.as_view(), name="list"),
    path("read/", views.MarkReadView.as_view(), name="read"),
    path("preferences/", views.NotificationPreferencesView.as_view(), name="preferences"),
]
