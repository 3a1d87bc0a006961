from django.urls import path

from . import views

app_name = "scans"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("scans/", views.scan_list, name="scan_list"),
    path("scans/<int:pk>/", views.scan_detail, name="scan_detail"),
    path("scans/<int:pk>/report/<str:fmt>/", views.scan_report, name="scan_report"),
    path("scans/<int:pk>/diff/", views.scan_diff, name="scan_diff"),
    path("images/<int:image_pk>/scan/", views.scan_image, name="scan_image"),
    path("containers/<int:container_pk>/audit/", views.audit_container, name="audit_container"),
    path("audits/", views.audit_list, name="audit_list"),
    path("audits/<int:pk>/", views.audit_detail, name="audit_detail"),
    path("databases/", views.database_list, name="database_list"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("suppressions/", views.suppression_list, name="suppression_list"),
    path("suppressions/<int:pk>/delete/", views.suppression_delete, name="suppression_delete"),
    path("exclusions/", views.exclusion_list, name="exclusion_list"),
    path("exclusions/<int:pk>/delete/", views.exclusion_delete, name="exclusion_delete"),
]
