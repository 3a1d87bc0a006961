from django.urls import path  # noqa: F401 - the mirror slice adds its pages here

from .views_lifecycle import lifecycle_urlpatterns

app_name = "containers"
urlpatterns = [
    # --- lifecycle slice: create, edit, duplicate, actions, bulk
    *lifecycle_urlpatterns,
]
