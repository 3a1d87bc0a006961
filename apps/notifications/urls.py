from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("channels/", views.channel_list, name="channel_list"),
    path("channels/add/", views.channel_create, name="channel_create"),
    path("channels/<int:pk>/", views.channel_detail, name="channel_detail"),
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/delete/", views.channel_delete, name="channel_delete"),
    path("channels/<int:pk>/test/", views.channel_test, name="channel_test"),
    path("routes/", views.route_list, name="route_list"),
    path("routes/add/", views.route_create, name="route_create"),
    path("routes/<int:pk>/edit/", views.route_edit, name="route_edit"),
    path("routes/<int:pk>/delete/", views.route_delete, name="route_delete"),
    path("deliveries/", views.delivery_list, name="delivery_list"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
]
