from django.urls import path

from . import views

app_name = "activity"
urlpatterns = [
    path("", views.feed, name="feed"),
    path("operations/", views.operations, name="operations"),
    path("operations/<int:pk>/", views.operation_detail, name="operation_detail"),
    path("operations/<int:pk>/cancel/", views.operation_cancel, name="operation_cancel"),
]
