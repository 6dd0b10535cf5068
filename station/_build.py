"""Build facts. BUILD_DATE is rewritten by packaging/build.py for releases.

A dose can never have been given before the software that records it was built,
and a wall clock reading earlier than this date is certainly wrong.
"""

BUILD_DATE = "2026-11-26"
VERSION = "0.1.0"
