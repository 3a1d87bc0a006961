from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("compose-projects", views.ComposeProjectViewSet, basename="composeproject")
router.register("templates", views.ComposeTemplateViewSet, basename="composetemplate")

urlpatterns = [path("compose/validate/", views.ValidateView.as_view(), name="compose-validate"), *router.urls]
