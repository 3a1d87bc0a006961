"""/ws/metrics/container/<id>/ and /ws/metrics/host/<id>/: new chart points of one object,
pushed by the collector after each round. VIEW permission on the object is checked on
connect; another team's object is refused before accept."""

from apps.activity.consumers import PushConsumer
from apps.core.broadcast import object_group
from apps.core.roles import Action


class MetricsConsumer(PushConsumer):
    kind = "container"  # the subclasses below name their kind

    def groups_for(self, user):
        from apps.containers.models import Container
        from apps.hosts.models import DockerHost

        model = Container if self.kind == "container" else DockerHost
        pk = self.scope["url_route"]["kwargs"]["pk"]
        visible = model.objects.for_user(user, Action.VIEW).filter(pk=pk).exists()
        return [object_group(f"metrics.{self.kind}", pk)] if visible else []


class ContainerMetricsConsumer(MetricsConsumer):
    kind = "container"


class HostMetricsConsumer(MetricsConsumer):
    kind = "host"
