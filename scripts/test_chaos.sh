#!/usr/bin/env bash
# `make test-chaos`: runs every chaos script under scripts/chaos/ in a fixed order, one at a time
# (each one loads the machine on purpose). A script passes when it exits 0; its last output line is
# its summary. Prints one line per area and `chaos: N passed, N failed`; exits 1 when any failed.
# CHAOS_ONLY=<area>[,<area>] runs a subset (e.g. CHAOS_ONLY=telemetry,fuzz).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

AREAS=(telemetry trace_uniqueness sessions payload_limits serve_boundary fuzz)
ONLY=",${CHAOS_ONLY:-},"
passed=0
failed=0
summary=()
for area in "${AREAS[@]}"; do
  if [[ "$ONLY" != ",," && "$ONLY" != *",$area,"* ]]; then continue; fi
  script="scripts/chaos/$area.mjs"
  if [[ ! -f "$script" ]]; then
    summary+=("FAIL  $area (missing $script)")
    failed=$((failed + 1))
    continue
  fi
  echo "== chaos: $area"
  started=$(date +%s)
  if node "$script"; then
    summary+=("pass  $area ($(($(date +%s) - started)) s)")
    passed=$((passed + 1))
  else
    summary+=("FAIL  $area ($(($(date +%s) - started)) s)")
    failed=$((failed + 1))
  fi
done
echo
printf '%s\n' "${summary[@]}"
echo "chaos: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
