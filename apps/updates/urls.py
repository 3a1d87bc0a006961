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
]
