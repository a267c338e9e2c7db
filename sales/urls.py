from django.urls import path

from sales import views

app_name = "sales"

urlpatterns = [
    path("", views.OpportunityListView.as_view(), name="list"),
    path("pipeline/", views.PipelineBoardView.as_view(), name="board"),
    path("<int:pk>/", views.OpportunityDetailView.as_view(), name="detail"),
]
