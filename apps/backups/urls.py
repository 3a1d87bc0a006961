from django.urls import path

from . import views

app_name = "backups"
urlpatterns = [
    path("", views.backup_list, name="list"),
    path("key/export/", views.key_export, name="key_export"),
    path("import/", views.backup_import, name="import"),
    path("schedules/new/", views.schedule_form, name="schedule_create"),
    path("schedules/<int:pk>/", views.schedule_form, name="schedule_edit"),
    path("targets/new/", views.target_form, name="target_create"),
    path("targets/<int:pk>/", views.target_form, name="target_edit"),
    path("targets/<int:pk>/delete/", views.target_delete, name="target_delete"),
    path("targets/<int:pk>/check/", views.target_check, name="target_check"),
    path("<int:pk>/", views.backup_detail, name="detail"),
    path("<int:pk>/verify/", views.backup_verify, name="verify"),
]
