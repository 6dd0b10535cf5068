"""Build facts. BUILD_DATE, VERSION and COMMIT are rewritten by packaging/build.py for the bundle.

A dose can never have been given before the software that records it was built,
and a wall clock reading earlier than this date is certainly wrong. The commit
(empty in a source checkout) tells support exactly which code a laptop runs; it
is shown in the F1 overlay ("About") and by ``--selftest``.
"""

BUILD_DATE = "2026-11-26"
VERSION = "0.1.0"
COMMIT = ""
