"""Errors raised by the station core.

Every error carries a machine-readable ``code`` (and, for input problems, the
``field`` it concerns) plus parameters; the UI maps codes to translated text.
Messages never contain personal data (names, ID numbers, phones): only codes,
field names and non-identifying parameters such as lengths or limits.

Hierarchy::

    StationError
    ├── ValidationError        one or more FieldIssue with severity "error"
    ├── DomainError            a rule refused the action (code + params)
    │   ├── NeedsConfirmation  warnings that the user must explicitly confirm
    │   └── NeedsOverride      clinical refusals only a supervisor may override
    ├── PermissionDenied       the actor's role may not perform the action
    ├── NotFound               an entity id does not exist
    └── StoreError             the database cannot be opened or used
        ├── KeyringUnavailable no usable OS keyring backend
        ├── KeyMissing         the database key is not in the keyring
        └── WrongKey           the key does not open the database
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

# "info": a note shown with the result that needs no confirmation (e.g. a dose
# given after the minimum but before the recommended interval).
Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One problem with one input field.

    ``code`` is dotted, e.g. ``"phone.invalid"``; ``params`` holds only
    non-personal details (lengths, limits, allowed values).
    """

    field: str
    code: str
    params: dict[str, object] = dataclasses.field(default_factory=dict)
    severity: Severity = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class StationError(Exception):
    """Base class of every error the station core raises on purpose."""

    code: str = "station.error"

    def __init__(self, code: str | None = None, **params: object) -> None:
        if code is not None:
            self.code = code
        self.params: dict[str, object] = params
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.params:
            return self.code
        inner = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.code} ({inner})"


class ValidationError(StationError):
    """Input was refused; ``issues`` names each field and problem."""

    code = "validation.failed"

    def __init__(self, issues: list[FieldIssue] | tuple[FieldIssue, ...]) -> None:
        self.issues: tuple[FieldIssue, ...] = tuple(issues)
        super().__init__(None, fields=sorted({i.field for i in self.issues}))

    def _render(self) -> str:
        parts = [f"{i.field}: {i.code}" for i in self.issues]
        return f"{self.code}: " + "; ".join(parts)

    @property
    def fields(self) -> set[str]:
        return {i.field for i in self.issues}

    def codes(self) -> set[str]:
        return {i.code for i in self.issues}


class DomainError(StationError):
    """A domain rule refused the action."""

    code = "domain.refused"


class NeedsConfirmation(DomainError):
    """The action is allowed only after the user confirms the listed warnings.

    Call again with the warning codes in ``confirm`` to proceed.
    """

    code = "confirmation.required"

    def __init__(self, warnings: list[FieldIssue] | tuple[FieldIssue, ...]) -> None:
        self.warnings: tuple[FieldIssue, ...] = tuple(warnings)
        super().__init__(None, warnings=sorted(w.code for w in self.warnings))


class NeedsOverride(DomainError):
    """A clinical rule refuses the action; only a supervisor may override it, with a reason.

    ``issues`` are the refusals (errors); call again with their codes in
    ``override``, a reason, and a supervisor as the approver. The override is audited.
    """

    code = "override.required"

    def __init__(self, issues: list[FieldIssue] | tuple[FieldIssue, ...]) -> None:
        self.issues: tuple[FieldIssue, ...] = tuple(issues)
        super().__init__(None, codes=sorted(i.code for i in self.issues))


class PermissionDenied(StationError):
    code = "permission.denied"


class NotFound(StationError):
    code = "not_found"


class StoreError(StationError):
    code = "store.error"


class KeyringUnavailable(StoreError):
    code = "store.keyring_unavailable"


class KeyMissing(StoreError):
    code = "store.key_missing"


class WrongKey(StoreError):
    code = "store.wrong_key"
