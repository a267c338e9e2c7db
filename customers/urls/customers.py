from django.urls import path

from customers.views import children, customers, merging, sharing

app_name = "customers"

urlpatterns = [
    path("", customers.CustomerListView.as_view(), name="list"),
    path("new/", customers.CustomerCreateView.as_view(), name="create"),
    path("bulk/", customers.CustomerBulkView.as_view(), name="bulk"),
    # Duplicates and merges (customers.views.merging)
    path("duplicates/", merging.duplicates_page, name="duplicates"),
    path("merge/", merging.merge_page, name="merge"),
    path("contacts/duplicates/", merging.duplicates_page, {"kind": "contact"}, name="contact_duplicates"),
    path("contacts/merge/", merging.merge_page, {"kind": "contact"}, name="contact_merge"),
    path("merges/<int:pk>/", merging.merge_result, name="merge_result"),
    path("merges/<int:pk>/undo/", merging.undo_merge, name="merge_undo"),
    path("<int:pk>/", customers.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", customers.CustomerUpdateView.as_view(), name="edit"),
    path("<int:pk>/share/", sharing.share, name="share"),
    path("<int:pk>/share/<int:user_id>/end/", sharing.unshare, name="unshare"),
    path("<int:customer_pk>/contacts/new/", children.ContactCreateView.as_view(), name="contact_create"),
    path("<int:customer_pk>/interactions/new/", children.InteractionCreateView.as_view(), name="interaction_create"),
    path("contacts/", children.ContactListView.as_view(), name="contact_list"),
    path("contacts/<int:pk>/", children.ContactDetailView.as_view(), name="contact_detail"),
    path("contacts/<int:pk>/edit/", children.ContactUpdateView.as_view(), name="contact_edit"),
    path("interactions/", children.InteractionListView.as_view(), name="interaction_list"),
    path("interactions/<int:pk>/", children.InteractionDetailView.as_view(), name="interaction_detail"),
    path("interactions/<int:pk>/edit/", children.InteractionUpdateView.as_view(), name="interaction_edit"),
]
