"""Containers pages. Each slice appends its routes in its own section (minimal edits)."""

from django.urls import path

from . import views

app_name = "containers"
urlpatterns = [
    # --- mirror: lists and detail pages ---------------------------------------------------------
    path("containers/", views.container_list, name="list"),
    path("containers/<int:pk>/", views.container_detail, name="detail"),
    path("containers/<int:pk>/top/", views.container_top, name="top"),
    path("containers/<int:pk>/env/", views.container_env, name="env"),
    path("images/", views.image_list, name="image_list"),
    path("images/<int:pk>/", views.image_detail, name="image_detail"),
    path("volumes/", views.volume_list, name="volume_list"),
    path("volumes/<int:pk>/", views.volume_detail, name="volume_detail"),
    path("networks/", views.network_list, name="network_list"),
    path("networks/<int:pk>/", views.network_detail, name="network_detail"),
    # --- lifecycle (bulk_action: POST action, ids) -----------------------------------------------
    # --- resources -------------------------------------------------------------------------------
    # --- streams ---------------------------------------------------------------------------------
]
