"""What a site hub tells a desk about itself (``GET /sync/v1/site/hub-status``).

The desk's Sync workspace shows the site hub's own view of its link to the province:
whether the province answered it at its last attempt, when it last did, and how many
of the site's ops it holds that the province has not answered yet. Read-only, with the
desk's own token; a province hub answers 404 ``relay.not_site_hub``. Counts and times
only: no personal data.

Kept apart from :mod:`sync.protocol` (the station protocol proper) because only the
desk's window asks for it; every value is bounded as the rest of the protocol is.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sync.protocol import MAX_INT, PROTOCOL_VERSION

# Under the protocol's prefix (``sync.protocol.API_PREFIX``), as every station path.
SITE_HUB_STATUS_PATH = "/site/hub-status"


class SiteHubStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol_version: int = Field(default=PROTOCOL_VERSION, ge=0, le=1000)
    site_code: str = Field(max_length=32)
    # The province answered the site hub at its last attempt (roster, forward or pull).
    province_reachable: bool
    # When the province last answered it (UTC ISO); None: not since the site hub started
    # and no answer stored.
    province_contact_at: str | None = Field(default=None, max_length=40)
    # Ops of the site's desks the site hub holds that the province has not answered yet.
    waiting_ops: int = Field(ge=0, le=MAX_INT)
    # Of those, the asking desk's own.
    waiting_for_you: int = Field(ge=0, le=MAX_INT)
    server_time: str = Field(max_length=40)


__all__ = ["SITE_HUB_STATUS_PATH", "SiteHubStatus"]
