from django.urls import path

from . import views

app_name = "hosts"
urlpatterns = [
    path("", views.host_list, name="list"),
    path("add/", views.host_create, name="create"),
    path("<int:pk>/", views.host_detail, name="detail"),
    path("<int:pk>/edit/", views.host_edit, name="edit"),
    path("<int:pk>/delete/", views.host_delete, name="delete"),
    path("<int:pk>/test/", views.host_test, name="test"),
]
