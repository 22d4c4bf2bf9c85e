#!/usr/bin/env bash
# Evaluates the bundled example intents against examples/policy.yaml with the real CLI.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d "${TMPDIR:-/tmp}/gait-demo.XXXXXX")
printf 'gait demo: policy examples/policy.yaml, traces in %s\n\n' "$out"
for intent in read_file write_config migrate_plan delete_prod; do
  printf '$ gait gate eval --policy examples/policy.yaml --intent examples/intents/%s.json\n' "$intent"
  node dist/gait.cjs gate eval --policy examples/policy.yaml --intent "examples/intents/$intent.json" \
    --trace-out "$out/trace_$intent.json"
  printf 'exit code %s\n\n' "$?"
done
printf '$ gait gate eval --policy examples/policy.yaml --intent examples/intents/delete_prod.json --json\n'
node dist/gait.cjs gate eval --policy examples/policy.yaml --intent examples/intents/delete_prod.json \
  --trace-out "$out/trace_delete_prod_json.json" --json
printf 'exit code %s\n' "$?"
