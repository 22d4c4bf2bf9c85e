#!/usr/bin/env bash
# Session soak: drives the real `gait` CLI through the session scenarios of spec session.md §8,
# each repeated SOAK_REPEATS times (default 3):
#   lifecycle            start, appends, checkpoint, compact, verify, append, checkpoint, verify
#   concurrent_appends   SOAK_CONCURRENCY (default 32) appends from separate processes under swarm: 1..N
#   lock_recovery        a stale lock is taken over; a fresh lock times out with exit 1 (classified)
#   compaction           compaction keeps verification, also when every event is compacted away
#   append_latency_drift SOAK_DRIFT_APPENDS (default 240) sequential appends:
#                        mean(last 40) / mean(first 40) <= SOAK_DRIFT_MAX_RATIO (default 1.5)
# Prints one line per scenario and `N passed, N failed`; exits 1 when any scenario failed.
# Usage (from the repository root): bash scripts/test_session_soak.sh
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

REPEATS="${SOAK_REPEATS:-3}"
CONCURRENCY="${SOAK_CONCURRENCY:-32}"
DRIFT_APPENDS="${SOAK_DRIFT_APPENDS:-240}"
DRIFT_MAX_RATIO="${SOAK_DRIFT_MAX_RATIO:-1.5}"
GAIT_BIN="$ROOT/bin/gait.cjs"
BUNDLE="$ROOT/dist/gait.cjs"

# Lock tuning from the caller's shell would change what the scenarios test.
unset GAIT_SESSION_LOCK_PROFILE GAIT_SESSION_LOCK_TIMEOUT GAIT_SESSION_LOCK_RETRY GAIT_SESSION_LOCK_STALE_AFTER
export NO_COLOR=1

# ---------------------------------------------------------------------------------------------
# Build the CLI when the bundle is missing or older than its sources.
if [[ ! -f "$BUNDLE" ]] || [[ -n "$(find src scripts/build.mjs package.json -newer "$BUNDLE" -print -quit 2>/dev/null)" ]]; then
  echo "building the CLI (node scripts/build.mjs --cli-only)"
  node scripts/build.mjs --cli-only >/dev/null
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gait-session-soak.XXXXXX")"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------
# Helpers (scenarios run in subshells with errexit; any failing check ends the repeat).

gait() { node "$GAIT_BIN" "$@"; }

fail() {
  echo "$*" >&2
  exit 1
}

# json_get '<json>' 'a.b.0.c' → the value (objects as JSON, missing as empty).
json_get() {
  node -e '
    const [text, path] = process.argv.slice(1)
    const value = path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), JSON.parse(text))
    process.stdout.write(value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value))
  ' "$1" "$2"
}

expect_eq() { # expect_eq <actual> <expected> <what>
  [[ "$1" == "$2" ]] || fail "$3: got '$1', want '$2'"
}

# Runs a gait command that must succeed with --json; prints its stdout.
gait_ok() {
  local out rc=0
  out="$(gait "$@" --json)" || rc=$?
  [[ $rc -eq 0 ]] || fail "gait $* exited $rc: $out"
  [[ "$(json_get "$out" ok)" == "true" ]] || fail "gait $*: ok is not true: $out"
  printf '%s' "$out"
}

append_seq() { # append_seq <journal> <intent> → the sequence
  json_get "$(gait_ok run session append --journal "$1" --tool tool.write --verdict allow --intent-id "$2")" event.sequence
}

verify_chain() { # verify_chain <chain> <checkpoints>
  local out
  out="$(gait_ok verify session-chain --chain "$1")"
  expect_eq "$(json_get "$out" checkpoints_checked)" "$2" "checkpoints verified in $1"
}

# Independent read of the journal: every line is a record, events and checkpoints tell a gap-free story.
check_journal() { # check_journal <journal> <last_sequence>
  node -e '
    const fs = require("fs")
    const [file, wantLast] = process.argv.slice(1)
    const text = fs.readFileSync(file, "utf8")
    if (!text.endsWith("\n")) throw new Error(file + ": incomplete final record")
    const records = text.trimEnd().split("\n").map((l) => JSON.parse(l))
    if (records[0].record_type !== "header") throw new Error("no header")
    let next = 1
    for (const r of records.slice(1)) {
      if (r.record_type === "event") {
        if (r.event.sequence !== next) throw new Error("sequence " + r.event.sequence + ", want " + next)
        next++
      } else if (r.record_type === "checkpoint") {
        if (r.checkpoint.sequence_start > next) throw new Error("checkpoint gap at " + next)
        next = Math.max(next, r.checkpoint.sequence_end + 1)
      } else throw new Error("record_type " + r.record_type)
    }
    if (next - 1 !== Number(wantLast)) throw new Error("last sequence " + (next - 1) + ", want " + wantLast)
    const state = JSON.parse(fs.readFileSync(file + ".state.json", "utf8"))
    if (state.journal_size_bytes !== Buffer.byteLength(text)) throw new Error("state index size mismatch")
    if (state.last_sequence !== Number(wantLast)) throw new Error("state last_sequence " + state.last_sequence)
    if (fs.existsSync(file + ".lock")) throw new Error("lock file left behind")
  ' "$1" "$2"
}

lock_line() { # lock_line <created_at ISO> <pid>
  printf '{"created_at":"%s","pid":%s,"schema_id":"gait.runpack.session_lock","schema_version":"1.0.0","token":"soak-foreign"}\n' "$1" "$2"
}

iso_ago() { # iso_ago <seconds>
  node -e 'process.stdout.write(new Date(Date.now() - Number(process.argv[1]) * 1000).toISOString())' "$1"
}

# ---------------------------------------------------------------------------------------------
# Scenarios. Each gets a fresh directory as its working directory.

scenario_lifecycle() {
  local j=sessions/demo.journal.jsonl chain=sessions/demo.journal_chain.json out
  gait_ok run session start --journal "$j" --session-id sess_soak --run-id run_soak >/dev/null
  gait_ok run session start --journal "$j" --session-id sess_soak --run-id run_soak >/dev/null # idempotent
  for i in 1 2 3; do expect_eq "$(append_seq "$j" "intent_$i")" "$i" "append $i"; done
  out="$(gait_ok run session checkpoint --journal "$j" --out runpacks/cp_0001.zip)"
  expect_eq "$(json_get "$out" checkpoint.checkpoint_index)" 1 "checkpoint index"
  expect_eq "$(json_get "$out" checkpoint.sequence_start)..$(json_get "$out" checkpoint.sequence_end)" "1..3" "checkpoint range"
  expect_eq "$(json_get "$out" chain_path)" "$chain" "chain path"
  [[ -f runpacks/cp_0001.zip && -f "$chain" ]] || fail "runpack or chain file missing"
  local cp1
  cp1="$(json_get "$out" checkpoint.checkpoint_digest)"
  out="$(gait_ok run session compact --journal "$j")"
  expect_eq "$(json_get "$out" compaction.events_after)" 0 "events after compaction"
  verify_chain "$chain" 1
  expect_eq "$(append_seq "$j" intent_4)" 4 "append after compaction"
  out="$(gait_ok run session checkpoint --journal "$j" --out runpacks/cp_0002.zip)"
  expect_eq "$(json_get "$out" checkpoint.sequence_start)..$(json_get "$out" checkpoint.sequence_end)" "4..4" "checkpoint 2 range"
  expect_eq "$(json_get "$out" checkpoint.prev_checkpoint_digest)" "$cp1" "checkpoint 2 linkage"
  verify_chain "$chain" 2
  out="$(gait_ok run session status --journal "$j")"
  expect_eq "$(json_get "$out" status.last_sequence)/$(json_get "$out" status.checkpoint_count)" "4/2" "status"
  check_journal "$j" 4
}

scenario_concurrent_appends() {
  local j="$PWD/swarm.journal.jsonl" pids=() failures=0
  gait_ok run session start --journal "$j" --session-id sess_swarm --run-id run_swarm >/dev/null
  for i in $(seq 1 "$CONCURRENCY"); do
    GAIT_SESSION_LOCK_PROFILE=swarm GAIT_SESSION_LOCK_TIMEOUT=10s \
      node "$GAIT_BIN" run session append --journal "$j" --tool tool.write --verdict allow --intent-id "c$i" --json >"out.$i" 2>&1 &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do wait "$pid" || failures=$((failures + 1)); done
  if [[ $failures -ne 0 ]]; then
    fail "$failures of $CONCURRENCY appends failed: $(grep -h -m1 error out.* | head -c 400)"
  fi
  node -e '
    const fs = require("fs")
    const n = Number(process.argv[1])
    const seqs = fs.readdirSync(".").filter((f) => f.startsWith("out.")).map((f) => JSON.parse(fs.readFileSync(f, "utf8")).event.sequence).sort((a, b) => a - b)
    if (seqs.length !== n || seqs.some((s, i) => s !== i + 1)) throw new Error("sequences " + seqs.join(","))
  ' "$CONCURRENCY"
  local out
  out="$(gait_ok run session status --journal "$j")"
  expect_eq "$(json_get "$out" status.event_count)" "$CONCURRENCY" "event count"
  check_journal "$j" "$CONCURRENCY"
}

scenario_lock_recovery() {
  local j="$PWD/lock.journal.jsonl" out rc
  gait_ok run session start --journal "$j" --session-id sess_lock --run-id run_lock >/dev/null
  # stale (10 minutes old): taken over
  lock_line "$(iso_ago 600)" 4242 >"$j.lock"
  expect_eq "$(append_seq "$j" after_stale)" 1 "append over a stale lock"
  [[ ! -e "$j.lock" ]] || fail "lock left behind after the takeover"
  # fresh: times out with the classified contention error (exit 1)
  lock_line "$(iso_ago 0)" 4242 >"$j.lock"
  rc=0
  out="$(GAIT_SESSION_LOCK_TIMEOUT=200ms gait run session append --journal "$j" --tool t --verdict allow --json)" || rc=$?
  expect_eq "$rc" 1 "exit code on a fresh lock"
  expect_eq "$(json_get "$out" error_code)" session_lock_contention "error_code"
  expect_eq "$(json_get "$out" error_category)/$(json_get "$out" retryable)" "state_contention/true" "classification"
  expect_eq "$(json_get "$out" lock.holder_pid)/$(json_get "$out" lock.timeout_ms)" "4242/200" "lock diagnostic"
  [[ -e "$j.lock" ]] || fail "a foreign fresh lock was removed"
  # fresh but older than GAIT_SESSION_LOCK_STALE_AFTER: taken over
  lock_line "$(iso_ago 5)" 4242 >"$j.lock"
  expect_eq "$(GAIT_SESSION_LOCK_STALE_AFTER=1s append_seq "$j" after_stale_after)" 2 "append with GAIT_SESSION_LOCK_STALE_AFTER=1s"
  check_journal "$j" 2
}

scenario_compaction() {
  local j=compact.journal.jsonl chain=compact.journal_chain.json out
  gait_ok run session start --journal "$j" --session-id sess_compact --run-id run_compact >/dev/null
  append_seq "$j" a1 >/dev/null
  append_seq "$j" a2 >/dev/null
  gait_ok run session checkpoint --journal "$j" --out cp1.zip >/dev/null
  append_seq "$j" a3 >/dev/null
  out="$(gait_ok run session compact --journal "$j" --dry-run)"
  expect_eq "$(json_get "$out" compaction.compacted)/$(json_get "$out" compaction.events_before)->$(json_get "$out" compaction.events_after)" "true/3->1" "dry run"
  out="$(gait_ok run session compact --journal "$j")"
  expect_eq "$(json_get "$out" compaction.events_after)" 1 "events retained"
  verify_chain "$chain" 1
  out="$(gait_ok run session status --journal "$j")"
  expect_eq "$(json_get "$out" status.event_count)/$(json_get "$out" status.last_sequence)/$(json_get "$out" status.checkpoint_count)" "1/3/1" "status after compaction"
  gait_ok run session checkpoint --journal "$j" --out cp2.zip >/dev/null
  # compact every event away; the sequence must continue, not restart at 1
  out="$(gait_ok run session compact --journal "$j")"
  expect_eq "$(json_get "$out" compaction.events_after)" 0 "events after compacting everything"
  verify_chain "$chain" 2
  expect_eq "$(append_seq "$j" a4)" 4 "sequence after compacting every event"
  gait_ok run session checkpoint --journal "$j" --out cp3.zip >/dev/null
  verify_chain "$chain" 3
  check_journal "$j" 4
}

scenario_append_latency_drift() {
  local j="$PWD/drift.journal.jsonl" out
  gait_ok run session start --journal "$j" --session-id sess_drift --run-id run_drift >/dev/null
  out="$(node -e '
    const { spawnSync } = require("child_process")
    const [bin, journal, count] = process.argv.slice(1)
    const n = Number(count)
    const latencies = []
    for (let i = 1; i <= n; i++) {
      const started = process.hrtime.bigint()
      const r = spawnSync(process.execPath, [bin, "run", "session", "append", "--journal", journal, "--tool", "tool.write", "--verdict", "allow", "--intent-id", "d" + i, "--json"], { encoding: "utf8" })
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
      if (r.status !== 0) throw new Error("append " + i + " exited " + r.status + ": " + r.stdout)
      const seq = JSON.parse(r.stdout).event.sequence
      if (seq !== i) throw new Error("append " + i + " got sequence " + seq)
    }
    const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length
    const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]
    const window = Math.min(40, Math.floor(n / 2))
    const first = latencies.slice(0, window), last = latencies.slice(-window)
    console.log([(mean(last) / mean(first)).toFixed(3), mean(first).toFixed(1), mean(last).toFixed(1), (median(last) / median(first)).toFixed(3)].join(" "))
  ' "$GAIT_BIN" "$j" "$DRIFT_APPENDS")"
  read -r ratio first last median_ratio <<<"$out"
  echo "ratio=$ratio first40_mean=${first}ms last40_mean=${last}ms median_ratio=$median_ratio" >"$PWD/drift.result"
  check_journal "$j" "$DRIFT_APPENDS"
  node -e 'process.exit(Number(process.argv[1]) <= Number(process.argv[2]) ? 0 : 1)' "$ratio" "$DRIFT_MAX_RATIO" ||
    fail "append latency drift $ratio > $DRIFT_MAX_RATIO (first 40 mean ${first}ms, last 40 mean ${last}ms)"
}

# ---------------------------------------------------------------------------------------------
# Runner.

PASSED=0
FAILED=0

run_scenario() { # run_scenario <name> <function>
  local name="$1" fn="$2" ok=0 first_error="" details=() started rc dir
  started=$(date +%s%N)
  for r in $(seq 1 "$REPEATS"); do
    dir="$WORK/$name.$r"
    mkdir -p "$dir"
    set +e
    (
      set -euo pipefail
      cd "$dir"
      "$fn"
    ) >"$dir.log" 2>&1
    rc=$?
    set -e
    if [[ $rc -eq 0 ]]; then
      ok=$((ok + 1))
    elif [[ -z "$first_error" ]]; then
      first_error="repeat $r: $(grep -v '^\s*at ' "$dir.log" | tail -n 3 | tr '\n' ' ' | head -c 400)"
    fi
    if [[ -f "$dir/drift.result" ]]; then details+=("$(cat "$dir/drift.result")"); fi
  done
  local secs
  secs=$(node -e 'process.stdout.write(((Number(process.argv[2]) - Number(process.argv[1])) / 1e9).toFixed(1))' "$started" "$(date +%s%N)")
  local extra=""
  if [[ ${#details[@]} -gt 0 ]]; then extra="; $(IFS='|'; echo "${details[*]}" | sed 's/|/; /g')"; fi
  if [[ $ok -eq $REPEATS ]]; then
    PASSED=$((PASSED + 1))
    echo "PASS $name ($ok/$REPEATS repeats, ${secs}s$extra)"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL $name ($ok/$REPEATS repeats, ${secs}s$extra): $first_error"
  fi
}

echo "session soak: repeats=$REPEATS concurrency=$CONCURRENCY drift_appends=$DRIFT_APPENDS max_drift_ratio=$DRIFT_MAX_RATIO"
run_scenario lifecycle scenario_lifecycle
run_scenario concurrent_appends scenario_concurrent_appends
run_scenario lock_recovery scenario_lock_recovery
run_scenario compaction_keeps_verification scenario_compaction
run_scenario append_latency_drift scenario_append_latency_drift
echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
