from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("scans", views.ScanViewSet, basename="scan")
router.register("findings", views.FindingViewSet, basename="finding")
router.register("suppressions", views.SuppressionViewSet, basename="suppression")
router.register("config-audits", views.ConfigAuditViewSet, basename="config-audit")
router.register("audit-exclusions", views.AuditExclusionViewSet, basename="audit-exclusion")
router.register("policies", views.PolicyViewSet, basename="policy")
router.register("vulnerability-databases", views.VulnerabilityDatabaseViewSet, basename="vulnerability-database")

urlpatterns = router.urls
