from django.urls import path

from customers.views import tickets as views

app_name = "tickets"

urlpatterns = [
    path("", views.TicketListView.as_view(), name="list"),
    path("new/", views.TicketCreateView.as_view(), name="create"),
    path("<int:pk>/", views.TicketDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.TicketUpdateView.as_view(), name="edit"),
    path("<int:pk>/status/", views.TicketStatusView.as_view(), name="status"),
    path("<int:pk>/assign/", views.TicketAssignView.as_view(), name="assign"),
    path("<int:pk>/messages/", views.TicketMessageCreateView.as_view(), name="message"),
]
