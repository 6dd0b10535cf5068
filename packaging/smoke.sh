#!/usr/bin/env bash
# Smoke-test a built bundle: run its --selftest and time it.
#   packaging/smoke.sh [BUNDLE_DIR]      (default: dist/tramtiem)
# Exit status is the selftest's (0 ok). Prints the bundle's size, the time to a
# bare start (--help) and the selftest's wall time; the JSON report goes to
# BUNDLE_DIR/../selftest-report.json.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=${1:-dist/tramtiem}
if [[ -x "$BUNDLE/tramtiem-cli.exe" ]]; then
    EXE="$BUNDLE/tramtiem-cli.exe"   # Windows (Git Bash): the console twin has a stdout
else
    EXE="$BUNDLE/tramtiem"
fi
[[ -x "$EXE" ]] || { echo "no bundle at $BUNDLE (build it: python packaging/build.py)" >&2; exit 2; }

# No display here means the selftest draws offscreen (it decides by itself too).
if [[ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && "$(uname -s)" == Linux ]]; then
    export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
fi

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
size=$(du -sh "$BUNDLE" | cut -f1)

t0=$(now)
"$EXE" --help >/dev/null
t1=$(now)
REPORT="$(dirname "$BUNDLE")/selftest-report.json"
set +e
"$EXE" --selftest >"$REPORT"
rc=$?
set -e
t2=$(now)

printf 'bundle      %s (%s)\n' "$BUNDLE" "$size"
printf 'start       %ss (--help)\n' "$(secs "$t0" "$t1")"
printf 'selftest    %ss, exit %d, report %s\n' "$(secs "$t1" "$t2")" "$rc" "$REPORT"
exit $rc
