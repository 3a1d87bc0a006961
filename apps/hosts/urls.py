from django.urls import path

from . import views

app_name = "hosts"
urlpatterns = [
    path("", views.host_list, name="list"),
    path("add/", views.host_list, name="create"),  # replaced by the host form
    path("<int:pk>/", views.host_detail, name="detail"),
]
