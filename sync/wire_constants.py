"""The sync protocol's constants, without pydantic: one definition of each.

``sync.protocol`` (the models), ``sync.revoked_certs`` and ``sync.lean`` (a cycle with
nothing to send reads its answers without pydantic, issue 15) all take them from here.
Nothing to import: the hub may read it (its import contract allows ``sync.protocol``'s
imports only, and ``sync.lean`` names a station type).
"""

from __future__ import annotations

PROTOCOL_VERSION = 1
API_PREFIX = "/sync/v1"
TOKEN_HEADER = "Authorization"  # "Bearer <station token>"
PUSH_WINDOW_HEADER = "X-Tramtiem-Push-Window"  # push answers: batches in flight allowed (absent: 1)
PUSH_FOLLOWS_HEADER = "X-Tramtiem-Follows"  # "1": sent behind one in flight (hub.push_turns)
MAX_PULL_LIMIT = 2000
MAX_ANSWER_IDS = 1000
# Counts are bounded at the edge: a day of one station never holds a million doses.
MAX_TALLY_COUNT = 1_000_000
REVOKED_CERTS_PATH = "/site/revoked-certs"  # at the province (sync.revoked_certs)
MAX_REVOKED_CERTS = 1000
