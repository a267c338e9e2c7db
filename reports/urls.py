from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:slug>/", views.report_page, name="report"),
    path("<slug:slug>/export.csv", views.export, name="export"),
]
