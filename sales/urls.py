from django.urls import path

from sales import views

app_name = "sales"

urlpatterns = [
    path("", views.OpportunityListView.as_view(), name="list"),
    path("pipeline/", views.PipelineBoardView.as_view(), name="board"),
    path("lost-reasons/", views.lost_reasons, name="lost_reasons"),
    path("bulk-move/", views.OpportunityBulkMoveView.as_view(), name="bulk_move"),
    path("new/", views.OpportunityCreateView.as_view(), name="create"),
    path("<int:pk>/", views.OpportunityDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.OpportunityUpdateView.as_view(), name="edit"),
    path("<int:pk>/move/", views.OpportunityMoveView.as_view(), name="move"),
]
