"""Encryption at rest for secrets (TLS/SSH keys, API keys, webhook URLs).

Keys come from DOCKERFORGE_ENCRYPTION_KEYS (newest first) or a key generated into var/.
MultiFernet decrypts with any listed key and encrypts with the first, so rotation is:
prepend a new key, run `manage.py rotate_encryption_keys`, then drop the old one.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    pass


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("stored secret cannot be decrypted with the configured keys") from None


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()
