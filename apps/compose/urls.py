from django.urls import path

from . import views

app_name = "compose"
urlpatterns = [
    path("", views.stack_list, name="list"),
    path("new/", views.stack_create, name="create"),
    path("validate/", views.validate, name="validate"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<str:ref>/deploy/", views.template_deploy, name="template_deploy"),
    path("hosts/<int:host_pk>/discover/", views.discover, name="discover"),
    path("<int:pk>/", views.stack_detail, name="detail"),
    path("<int:pk>/graph/", views.stack_graph, name="graph"),
    path("<int:pk>/edit/", views.stack_edit, name="edit"),
    path("<int:pk>/env/", views.stack_env, name="env"),
    path("<int:pk>/logs/", views.stack_logs, name="logs"),
    path("<int:pk>/take-over/", views.stack_take_over, name="take_over"),
    path("<int:pk>/versions/<int:number>/rollback/", views.stack_rollback, name="rollback"),
    path("<int:pk>/<str:action>/", views.stack_operate, name="operate"),
]
