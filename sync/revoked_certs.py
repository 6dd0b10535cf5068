"""The site hub certificates the province revoked, on the wire (``GET /sync/v1/site/revoked-certs``).

A desk trusts any site hub certificate the province's relay CA issued for its site; the
province tells it which of those it has revoked (a replaced, lost or stolen site hub
laptop). Station-authenticated, at the province only; the caller's own site only; expired
certificates are left out (pinning refuses them anyway). docs/protocol.md.

Kept apart from :mod:`sync.protocol` (the station protocol proper) as
:mod:`sync.site_hub_status` is; every value is bounded as the rest of the protocol is.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from sync import wire_constants
from sync.protocol import PROTOCOL_VERSION

# Under the protocol's prefix (``sync.protocol.API_PREFIX``), as every station path.
REVOKED_CERTS_PATH = wire_constants.REVOKED_CERTS_PATH  # one definition (pydantic-free)
MAX_REVOKED_CERTS = wire_constants.MAX_REVOKED_CERTS


class RevokedCerts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    protocol_version: int = Field(default=PROTOCOL_VERSION, ge=0, le=1000)
    site_code: str = Field(max_length=32)
    # SHA-256 fingerprints (lowercase hex of the DER), the most recently revoked first.
    fingerprints: list[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = Field(
        default_factory=list, max_length=MAX_REVOKED_CERTS
    )
    server_time: str = Field(max_length=40)


__all__ = ["MAX_REVOKED_CERTS", "REVOKED_CERTS_PATH", "RevokedCerts"]
