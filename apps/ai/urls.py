from django.urls import path

from . import views

app_name = "ai"
urlpatterns = [
    path("", views.analysis_list, name="analysis_list"),
    path("analyses/<int:pk>/", views.analysis_detail, name="analysis_detail"),
    path("containers/<int:pk>/analyse/", views.analyse_container, name="analyse_container"),
    path("containers/<int:pk>/preview/", views.preview_container, name="preview_container"),
    path("fixes/<int:pk>/approve/", views.approve_fix, name="approve_fix"),
    path("fixes/<int:pk>/reject/", views.reject_fix, name="reject_fix"),
    path("settings/", views.save_settings, name="save_settings"),
]
