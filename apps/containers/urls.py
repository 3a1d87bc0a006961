"""Containers pages. Each slice appends its routes in its own section (minimal edits)."""

from django.urls import include, path

from . import views, views_resources, views_streams
from .views_lifecycle import lifecycle_urlpatterns

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
    path("containers/", include(lifecycle_urlpatterns)),
    # --- resources -------------------------------------------------------------------------------
    path("images/pull/", views_resources.image_pull, name="image_pull"),
    path("images/build/", views_resources.image_build, name="image_build"),
    path("images/prune/", views_resources.image_prune, name="image_prune"),
    path("images/<int:pk>/tag/", views_resources.image_tag, name="image_tag"),
    path("images/<int:pk>/remove/", views_resources.image_remove, name="image_remove"),
    path("images/<int:pk>/history/", views_resources.image_history, name="image_history"),
    path("volumes/add/", views_resources.volume_create, name="volume_create"),
    path("volumes/prune/", views_resources.volume_prune, name="volume_prune"),
    path("volumes/<int:pk>/remove/", views_resources.volume_remove, name="volume_remove"),
    path("volumes/<int:pk>/browse/", views_resources.volume_browse, name="volume_browse"),
    path("volumes/<int:pk>/download/", views_resources.volume_download, name="volume_download"),
    path("networks/add/", views_resources.network_create, name="network_create"),
    path("networks/prune/", views_resources.network_prune, name="network_prune"),
    path("networks/<int:pk>/connect/", views_resources.network_connect, name="network_connect"),
    path("networks/<int:pk>/disconnect/", views_resources.network_disconnect, name="network_disconnect"),
    path("networks/<int:pk>/remove/", views_resources.network_remove, name="network_remove"),
    path("registries/", views_resources.registry_list, name="registry_list"),
    path("registries/add/", views_resources.registry_create, name="registry_create"),
    path("registries/<int:pk>/edit/", views_resources.registry_edit, name="registry_edit"),
    path("registries/<int:pk>/delete/", views_resources.registry_delete, name="registry_delete"),
    # --- streams ---------------------------------------------------------------------------------
    *views_streams.urlpatterns,
]
