"""Read what the LAN tap (``tests.lan.agents sniff``) recorded: TCP streams, reassembled.

Personal data split across two TCP segments would hide from a plain search of the raw
frames, so a check for plaintext reads each direction of each connection as one byte
stream (segments in sequence order, retransmissions once).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

Flow = tuple[str, int, str, int]  # source address, port, destination address, port


def frames(data: bytes) -> list[bytes]:
    """The frames of a capture file (each recorded as a 4-byte length, then the frame)."""
    out, off = [], 0
    while off + 4 <= len(data):
        n = int.from_bytes(data[off:off + 4], "big")
        out.append(data[off + 4:off + 4 + n])
        off += 4 + n
    return out


def tcp_streams(path: Path, *, skip_frames: int = 0) -> dict[Flow, bytes]:
    """Each TCP direction's payload bytes, in order (IPv4 over Ethernet)."""
    segments: dict[Flow, dict[int, bytes]] = defaultdict(dict)
    first_seq: dict[Flow, int] = {}
    for frame in frames(path.read_bytes())[skip_frames:]:
        if len(frame) < 34 or frame[12:14] != b"\x08\x00":
            continue
        ip = frame[14:]
        ihl, total = (ip[0] & 0x0F) * 4, int.from_bytes(ip[2:4], "big")
        if ip[9] != 6:
            continue
        tcp = ip[ihl:total]
        if len(tcp) < 20:
            continue
        flow = (".".join(map(str, ip[12:16])), int.from_bytes(tcp[0:2], "big"),
                ".".join(map(str, ip[16:20])), int.from_bytes(tcp[2:4], "big"))
        seq = int.from_bytes(tcp[4:8], "big")
        payload = tcp[(tcp[12] >> 4) * 4:]
        if not payload:
            continue
        base = first_seq.setdefault(flow, seq)
        segments[flow].setdefault((seq - base) % 2**32, payload)  # sequence wrap-around safe
    return {flow: b"".join(seg[k] for k in sorted(seg)) for flow, seg in segments.items()}


def frame_count(path: Path) -> int:
    return len(frames(path.read_bytes())) if path.exists() else 0
