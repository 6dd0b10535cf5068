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
import sys

import keyring
import keyring.backend
import keyring.core
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


# The backend keyring's own detection picks on these platforms when only keyring's
# built-in backends are installed (each of the others refuses there: Secret Service,
# KWallet and libsecret need D-Bus or GObject, macOS needs Darwin, Windows needs Windows).
_PLATFORM_BACKENDS = {
    "win32": "keyring.backends.Windows.WinVaultKeyring",
    "darwin": "keyring.backends.macOS.Keyring",
}
_BUILTIN_PREFIX = "keyring.backends."


def _third_party_backends() -> bool:
    """True when another package registers keyring backends (keyring's own entry points).

    The PyInstaller bundle ships keyring's own backends only (packaging/tramtiem.spec
    excludes keyrings.alt), so it skips the scan of every installed package's metadata.
    """
    if getattr(sys, "frozen", False):
        return False
    from keyring.compat.py312 import metadata

    return any(
        not str(ep.value).startswith(_BUILTIN_PREFIX)
        for ep in metadata.entry_points(group="keyring.backends")
    )


def _platform_backend(platform: str) -> keyring.backend.KeyringBackend | None:
    """The OS keyring named directly, when keyring's detection is sure to pick it.

    keyring's detection imports every backend module it finds through entry points
    and asks each for its priority (0.15-0.25 s at each start). On Windows and macOS,
    with no third-party backend installed, its answer is the platform's own backend
    whenever that one is usable; ``load_keyring`` checks it is (its priority raises
    otherwise), and anything unusual falls back to keyring's full detection.
    """
    name = _PLATFORM_BACKENDS.get(platform)
    if name is None or _third_party_backends():
        return None
    try:
        return keyring.core.load_keyring(name)
    except Exception:  # not usable here (missing API, odd build): keyring decides
        return None


def keyring_backend() -> keyring.backend.KeyringBackend:
    """The active keyring backend, chosen as keyring would choose it, with less work.

    Same order as ``keyring.core``: a backend set with ``keyring.set_keyring`` (tests,
    the demo), then ``PYTHON_KEYRING_BACKEND``, then the ``[backend] default-keyring``
    of keyring's config file (``keyringrc.cfg``), then the automatic choice. Only that
    last step changes: on Windows and macOS the platform's backend is named directly
    (:func:`_platform_backend`); elsewhere keyring's own detection runs as before.
    """
    if keyring.core._keyring_backend is None and "PYTHON_KEYRING_BACKEND" not in os.environ:
        kr = keyring.core.load_config() or _platform_backend(sys.platform)
        if kr is not None:
            keyring.set_keyring(kr)
    return keyring.get_keyring()


def backend_name() -> str:
    return _qualname(keyring_backend())


def check_backend() -> None:
    """Raise KeyringUnavailable unless a real (or explicitly chosen) backend is active."""
    kr = keyring_backend()
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
