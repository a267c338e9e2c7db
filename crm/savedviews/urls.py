from django.urls import path

from crm.savedviews import views

app_name = "savedviews"

urlpatterns = [
    path("", views.save, name="save"),
    path("<int:pk>/", views.change, name="change"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/default/", views.make_default, name="default"),
    path("<int:pk>/no-default/", views.clear_default, name="clear_default"),
]
