"""MINIMAL page routes (streams branch only): the mirror branch owns this file. On merge,
take its version and append `*views_streams.urlpatterns` in the streams section."""

from django.urls import path  # noqa: F401

from . import views_streams

app_name = "containers"
urlpatterns = [
    *views_streams.urlpatterns,
]
