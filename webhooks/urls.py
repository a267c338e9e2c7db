from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.EndpointListView.as_view(), name="list"),
    path("new/", views.EndpointCreateView.as_view(), name="create"),
    path("<int:pk>/", views.EndpointDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.EndpointUpdateView.as_view(), name="edit"),
    path("<int:pk>/test/", views.send_test, name="test"),
    path("<int:pk>/secret/", views.rotate_secret, name="rotate"),
]
