"""A process-local keyring for throwaway demo stations.

``tramtiem demo`` works on a temporary data directory whose key need not
survive the process, so it chooses this backend explicitly (never as a silent
fallback for real data).
"""

from __future__ import annotations

from keyring.backend import KeyringBackend


class ProcessKeyring(KeyringBackend):
    priority = 0.1  # never picked automatically

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)
