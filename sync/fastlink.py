"""How hard to compress what the station sends: by the round trip of the cycle's first request.

gzip level 6 was ~10% of a ``tramtiem sync``'s CPU draining 16,118 ops over loopback
(py-spy, issue 15); level 1 takes ~2.5× less CPU for ~30% more bytes. On a slow line
the bytes are the time (the slow-line bench: 256 kbit/s, 300 ms each way, where the bytes
must stay ≤ 0.25× PouchDB's), so level 6 stays; on the station's own machine or its LAN
(a site hub, a hub on the same host) the bytes cost nothing next to the CPU.

The measure is the health probe's round trip, the first request of every cycle: a
request the hub answers without work, so its time is the line's latency (the TCP
connect included when the connection is new). Under :data:`FAST_RTT_S` the link is on
this machine or its LAN; a province hub over a mobile or DSL line answers in tens to
hundreds of milliseconds. A busy machine can only make the probe slower, which keeps
level 6: the choice errs towards fewer bytes. Decided again each cycle, on its own client.
"""

from __future__ import annotations

from sync.client import GZIP_LEVEL, HubClient

FAST_RTT_S = 0.015  # a health round trip below this: loopback or LAN
FAST_GZIP_LEVEL = 1


def gzip_level_for(rtt_s: float) -> int:
    """The requests' gzip level for a link whose health probe took ``rtt_s`` seconds."""
    return FAST_GZIP_LEVEL if 0 <= rtt_s < FAST_RTT_S else GZIP_LEVEL


def tune(client: HubClient, rtt_s: float) -> None:
    """Set ``client``'s request gzip level for the rest of its cycle."""
    client.gzip_level = gzip_level_for(rtt_s)


__all__ = ["FAST_GZIP_LEVEL", "FAST_RTT_S", "gzip_level_for", "tune"]
