from django.db import models

from . import crypto

MASK = "••••••"
# Marks an encrypted value in serialized output (fixtures), so loading it decrypts once.
SERIALIZED_PREFIX = "fernet:"


class EncryptedTextField(models.TextField):
    """A text field stored encrypted (Fernet token); Python code sees the plaintext.

    Empty values are stored as "" so "not set" stays queryable. Audit and serializers show
    MASK instead of the value (see `is_secret`).
    """

    is_secret = True

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.encrypt(value)

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt(value)

    def to_python(self, value):
        # A value from a fixture (dumpdata/loaddata) arrives encrypted and marked.
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            try:
                return crypto.decrypt(value[len(SERIALIZED_PREFIX):])
            except crypto.DecryptionError:
                return value
        return value

    def value_to_string(self, obj):
        # Serializers (dumpdata, backups of DockerForge itself) get the ciphertext, never the
        # plaintext; loaddata turns it back through to_python.
        value = self.value_from_object(obj)
        if value in (None, ""):
            return value
        return SERIALIZED_PREFIX + crypto.encrypt(value)
