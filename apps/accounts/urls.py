from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail: Django's views with our templates.
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/done/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.token_create, name="token_create"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("team/", views.team_settings, name="team_settings"),
    path("team/switch/", views.switch_team, name="switch_team"),
    path("team/members/", views.member_add, name="member_add"),
    path("team/members/<int:pk>/role/", views.member_role, name="member_role"),
    path("team/members/<int:pk>/remove/", views.member_remove, name="member_remove"),
    path("team/invitations/", views.invitation_create, name="invitation_create"),
    path("team/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("teams/new/", views.team_create, name="team_create"),
    path("invite/<str:token>/", views.accept_invitation, name="accept_invitation"),
]
