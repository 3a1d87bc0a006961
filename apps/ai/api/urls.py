from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("analyses", views.AnalysisViewSet, basename="analysis")
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("fixes", views.FixProposalViewSet, basename="fix")
router.register("ai-settings", views.AISettingsViewSet, basename="ai-settings")

urlpatterns = router.urls
