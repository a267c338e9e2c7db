"""/exports/ (names under the "exports" namespace)."""

from django.urls import path

from crm.exports import views

app_name = "exports"

urlpatterns = [
    path("company/", views.company_page, name="company"),
    path("company.zip", views.company_download, name="company_download"),
]
