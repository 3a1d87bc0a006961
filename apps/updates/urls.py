from django.urls import path

from . import views

app_name = "updates"
urlpatterns = [
    path("", views.update_list, name="list"),
    path("about/", views.about, name="about"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/rollback/", views.rollback, name="rollback"),
    path("containers/<int:pk>/check/", views.check_container, name="check_container"),
    path("containers/<int:pk>/update/", views.update_container, name="update_container"),
    path("containers/<int:pk>/policy/", views.policy_form, name="container_policy"),
    path("containers/<int:pk>/policy/reset/", views.policy_reset, name="policy_reset"),
    path("policy/", views.policy_form, name="team_policy"),
    path("windows/new/", views.window_form, name="window_create"),
    path("windows/<int:pk>/", views.window_form, name="window_edit"),
    path("windows/<int:pk>/delete/", views.window_delete, name="window_delete"),
]
