#!/usr/bin/env bash
# Prints the failed tests of a `dotnet test` console log (verbosity normal) again, each with its message and the top of
# its stack, so that the end of a long CI log says which test failed and why. Usage: failed-tests.sh <log>
set -euo pipefail
log=${1:?usage: failed-tests.sh <dotnet test console log>}
[ -f "$log" ] || { echo "failed-tests.sh: no log at $log" >&2; exit 1; }
count=$(grep -cE '^  Failed [^ ]+ \[' "$log" || true)
[ "$count" -gt 0 ] || { echo "make test: no failed test in $log (see the output above for a build or host error)"; exit 0; }
echo
echo "make test: $count test(s) failed (the full output is in $log):"
awk '
  /^  Failed [^ ]+ \[/ { capturing = 1; lines = 0; print ""; print; next }
  capturing && (/^  (Passed|Failed|Skipped) / || /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]+ / || /^1\)/) { capturing = 0 }
  capturing { if (++lines <= 30) print }
' "$log"
