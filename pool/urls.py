from django.urls import path

from pool import views

app_name = "pool"

urlpatterns = [
    path("", views.pool, name="list"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("release/<int:pk>/", views.release, name="release"),
]
