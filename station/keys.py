"""The database key and the OS keyring.

The SQLCipher key is 32 random bytes made at first run and kept in the OS
keyring (Windows Credential Manager on site laptops; Secret Service or macOS
Keychain elsewhere). It is never written to the data directory.

On a machine with no usable keyring backend (a headless Linux box) the station
stops with :class:`~kernel.errors.KeyringUnavailable`: it never falls back
silently to a plaintext file. ``keyrings.alt``'s plaintext backends are accepted
only when chosen explicitly through ``PYTHON_KEYRING_BACKEND``.
"""

from __future__ import annotations

import os
import secrets

import keyring
import keyring.backend
import keyring.errors

from kernel.errors import KeyMissing, KeyringUnavailable

SERVICE = "tramtiem"

# Backends that store secrets in a readable file; allowed only on explicit choice.
_PLAINTEXT_BACKENDS = ("keyrings.alt.file.PlaintextKeyring",)

KEYRING_HELP = (
    "No usable OS keyring was found, so the database key cannot be stored safely. "
    "On Windows and macOS the system keyring is used automatically. On Linux, run a "
    "Secret Service (for example gnome-keyring in a D-Bus session), or choose a "
    "backend explicitly with the PYTHON_KEYRING_BACKEND environment variable "
    "(see docs/keys.md). The station never falls back to a plaintext key file."
)


def _qualname(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def backend_name() -> str:
    return _qualname(keyring.get_keyring())


def check_backend() -> None:
    """Raise KeyringUnavailable unless a real (or explicitly chosen) backend is active."""
    kr = keyring.get_keyring()
    name = _qualname(kr)
    if name.startswith("keyring.backends.fail."):
        raise KeyringUnavailable(backend=name)
    if name.startswith("keyring.backends.chainer.") and not getattr(kr, "backends", None):
        raise KeyringUnavailable(backend=name)
    if name in _PLAINTEXT_BACKENDS and os.environ.get("PYTHON_KEYRING_BACKEND") != name:
        # keyrings.alt makes itself the default when installed; that is the silent
        # plaintext fallback we refuse.
        raise KeyringUnavailable(backend=name, reason="implicit_plaintext")


def _username(install_id: str) -> str:
    return f"db-key:{install_id}"


def create_key(install_id: str) -> bytes:
    """Make and store a new random key for this installation."""
    check_backend()
    key = secrets.token_bytes(32)
    try:
        keyring.set_password(SERVICE, _username(install_id), key.hex())
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(backend=backend_name(), reason=type(exc).__name__) from None
    return key


def load_key(install_id: str) -> bytes:
    """Fetch the key; KeyMissing if this machine's keyring does not hold it."""
    check_backend()
    try:
        value = keyring.get_password(SERVICE, _username(install_id))
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(backend=backend_name(), reason=type(exc).__name__) from None
    if not value:
        raise KeyMissing(install_id=install_id)
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise KeyMissing(install_id=install_id, reason="malformed") from None
    if len(key) != 32:
        raise KeyMissing(install_id=install_id, reason="malformed")
    return key


def store_key(install_id: str, key: bytes) -> None:
    """Put a known key into the keyring (restore on a new laptop)."""
    check_backend()
    try:
        keyring.set_password(SERVICE, _username(install_id), key.hex())
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(backend=backend_name(), reason=type(exc).__name__) from None


def token_user(install_id: str) -> str:
    """Keyring user name of the station's hub token (written by ``tramtiem enroll``)."""
    return f"station-token:{install_id}"


def load_token(install_id: str) -> str | None:
    """The hub bearer token, or None when this machine's keyring does not hold one."""
    check_backend()
    try:
        return keyring.get_password(SERVICE, token_user(install_id))
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailable(backend=backend_name(), reason=type(exc).__name__) from None
