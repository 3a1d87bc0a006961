from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("team/", views.team_settings, name="team_settings"),
    path("team/switch/", views.switch_team, name="switch_team"),
]
