"""Personal data at rest: Fernet encryption, keyed search hashes, and the masks shown on screen."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()


def search_hash(value: str) -> str:
    """HMAC-SHA256 of a normalised value: equality search and uniqueness without the plaintext."""
    if not value:
        return ""
    return hmac.new(settings.SEARCH_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """220102199001011234 -> 220102********123X style: region code and the last four stay."""
    if not value:
        return ""
    if len(value) <= 10:
        return value[:2] + "*" * max(0, len(value) - 2)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """13812345678 -> 138****5678; other lengths keep the first three and last two."""
    if not value:
        return ""
    digits = value.strip()
    if len(digits) == 11:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) <= 5:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]
