from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("backups", views.BackupViewSet, basename="backup")
router.register("restores", views.RestoreViewSet, basename="restore")
router.register("backup-schedules", views.BackupScheduleViewSet, basename="backupschedule")
router.register("backup-storage-targets", views.StorageTargetViewSet, basename="storagetarget")

urlpatterns = router.urls
