"""Encryption at rest for Zoom tokens: MultiFernet, the first key encrypts, every key decrypts.

Rotating keys: put the new key first in TOKEN_ENCRYPTION_KEYS, keep the old ones after it
until ``flask zoom rotate-token-keys`` (or the next token refresh) has re-encrypted every row.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from flask import current_app


@cache
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _cipher(tuple(current_app.config["TOKEN_ENCRYPTION_KEYS"]))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    return _current().decrypt(ciphertext.encode()).decode()


def rotate(ciphertext: str) -> str:
    """Re-encrypt with the first key (for key rotation)."""
    return _current().rotate(ciphertext.encode()).decode()
