from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("teams", views.TeamViewSet, basename="team")
router.register("members", views.MembershipViewSet, basename="membership")
router.register("tokens", views.ApiTokenViewSet, basename="apitoken")
router.register("invitations", views.InvitationViewSet, basename="invitation")

urlpatterns = [path("auth/token/", views.TokenView.as_view(), name="auth-token"), *router.urls]
