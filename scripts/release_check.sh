#!/usr/bin/env bash
# `make release-check`: the five release gates of the hardening contract, in order. Every gate runs
# even when an earlier one failed; its output goes to .tmp/release-check/<gate>.log. Prints one line
# per gate (pass/fail, duration) and exits 1 when any gate failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOGS=".tmp/release-check"
mkdir -p "$LOGS"

GATES=(
  "test|make test"
  "test-hardening-acceptance|make test-hardening-acceptance"
  "session-soak|bash scripts/test_session_soak.sh"
  "test-chaos|make test-chaos"
  "bench-budgets|make bench-budgets"
)
failed=0
lines=()
for gate in "${GATES[@]}"; do
  name="${gate%%|*}"
  command="${gate#*|}"
  echo "== $name: $command (log: $LOGS/$name.log)"
  started=$(date +%s)
  if bash -c "$command" >"$LOGS/$name.log" 2>&1; then status=pass; else status=FAIL; failed=$((failed + 1)); fi
  elapsed=$(($(date +%s) - started))
  line="$(printf '%-26s %-4s %4d s   %s' "$name" "$status" "$elapsed" "$(grep -v '^make\[' "$LOGS/$name.log" | tail -n 1)")"
  echo "$line"
  lines+=("$line")
done
echo
printf '%s\n' "${lines[@]}"
if [[ $failed -eq 0 ]]; then echo "release-check: all 5 gates passed"; else echo "release-check: $failed of 5 gates failed"; fi
[[ $failed -eq 0 ]]
