#!/usr/bin/env bash
# `make test-hardening-acceptance`: the acceptance gate of the hardening contract (ops.md §9).
# Runs the curated vitest set in two phases (see vitest.config.ts):
#   hardening            error taxonomy and golden envelopes, atomic write under injected failures,
#                        serve boundary, doctor production readiness (files in parallel)
#   hardening-processes  lock contention and stale takeover, session determinism under concurrency
#                        (real processes; one file at a time)
# Every phase runs even when an earlier one failed. The last line is the summary
# ("N passed, N failed, N skipped"); the exit code is 0 only when nothing failed.
# Usage (from anywhere): bash scripts/test_hardening_acceptance.sh
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p .tmp

# Lock tuning from the caller's shell would change what the lock and session gates measure.
unset GAIT_SESSION_LOCK_PROFILE GAIT_SESSION_LOCK_TIMEOUT GAIT_SESSION_LOCK_RETRY GAIT_SESSION_LOCK_STALE_AFTER
export NO_COLOR=1

started=$(date +%s)
reports=()
status=0
for phase in hardening hardening-processes; do
  report=".tmp/vitest-$phase.json"
  rm -f "$report"
  echo "== $phase"
  GAIT_TEST_PHASE="$phase" node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=1
  if [[ -f "$report" ]]; then
    reports+=("$report")
  else
    echo "no report from phase $phase" >&2
    status=1
  fi
done

echo "hardening acceptance: $(($(date +%s) - started)) s"
if [[ ${#reports[@]} -gt 0 ]]; then
  node scripts/test-summary.mjs "${reports[@]}" || status=1
else
  echo "0 passed, 1 failed, 0 skipped"
  status=1
fi
exit "$status"
