"""A new team gets the default alert rules."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.accounts.models import Team

from .defaults import create_default_rules
from .models import AlertRule


@receiver(post_save, sender=Team, dispatch_uid="alerts-default-rules")
def default_rules(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        create_default_rules(instance.pk, AlertRule)
