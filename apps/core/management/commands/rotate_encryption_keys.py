from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.core.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the newest key of DOCKERFORGE_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            names = [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not names:
                continue
            count = 0
            with transaction.atomic():
                # Loading decrypts with any configured key; writing encrypts with the newest.
                for obj in model._default_manager.all().iterator():
                    values = {name: getattr(obj, name) for name in names if getattr(obj, name)}
                    if values:
                        model._default_manager.filter(pk=obj.pk).update(**values)
                        count += 1
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"done: {total} rows"))
