from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="list"),
    path("new/", views.CustomerCreateView.as_view(), name="create"),
    path("bulk/", views.CustomerBulkView.as_view(), name="bulk"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="edit"),
    path("<int:customer_pk>/contacts/new/", views.ContactCreateView.as_view(), name="contact_create"),
    path("<int:customer_pk>/interactions/new/", views.InteractionCreateView.as_view(), name="interaction_create"),
    path("contacts/", views.ContactListView.as_view(), name="contact_list"),
    path("contacts/<int:pk>/", views.ContactDetailView.as_view(), name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.ContactUpdateView.as_view(), name="contact_edit"),
    path("interactions/", views.InteractionListView.as_view(), name="interaction_list"),
    path("interactions/<int:pk>/", views.InteractionDetailView.as_view(), name="interaction_detail"),
    path("interactions/<int:pk>/edit/", views.InteractionUpdateView.as_view(), name="interaction_edit"),
]
