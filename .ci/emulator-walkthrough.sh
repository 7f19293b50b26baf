#!/usr/bin/env bash
# Runs the README's walkthrough "Running against AWS's local emulator" exactly as written: the
# fenced sh block after the line `<!-- emulator-walkthrough: ... -->`, with bash, from the
# repository root. The block installs AWS's emulator and cargo-lambda (pinned, into
# target/local-emulator), starts both on 127.0.0.1, starts an execution of examples/hello, follows
# it to its approval callback, completes it, sees it succeed, runs hello's test suite on the
# cloud runner against the emulator, and stops the servers.
#
#   bash .ci/emulator-walkthrough.sh
#
# Around the block, this script:
# - gives it two free ports (EMULATOR_PORT and INVOKE_PORT, which the block reads);
# - runs it with `set -euo pipefail -x`, in a session of its own, within a time limit
#   (WALKTHROUGH_TIMEOUT seconds, 1800 by default);
# - on exit, ends every process of that session still running (the servers and the function
#   cargo lambda watch runs), by process id;
# - checks what the walkthrough says it shows: the execution succeeded with its approval, the
#   function logged, and the tests' executions went to the emulator (its log);
# - on failure, prints the end of the servers' logs (target/emulator.log, target/hello.log);
# - prints how long it took.
#
# Needs: bash, python3 (3.11 or newer, with venv), curl, ps (procps), a Rust toolchain, and access
# to PyPI and crates.io (a warm pip cache and target directory make it fast).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

marker='<!-- emulator-walkthrough:'
limit="${WALKTHROUGH_TIMEOUT:-1800}"
started=$SECONDS

# curl, ps and setsid come with Debian's curl, procps and util-linux: installed when missing.
missing=()
command -v curl >/dev/null || missing+=(curl)
command -v ps >/dev/null || missing+=(procps)
command -v setsid >/dev/null || missing+=(util-linux)
if [[ ${#missing[@]} -gt 0 ]] && command -v apt-get >/dev/null; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq "${missing[@]}" >/dev/null || true
fi
for tool in python3 curl ps setsid; do
  command -v "$tool" >/dev/null || { echo "emulator-walkthrough: $tool is required" >&2; exit 1; }
done

# ---- the block, from the README
block="$(awk -v marker="$marker" '
  index($0, marker) == 1 { found = 1; next }
  found && !inside && /^```sh$/ { inside = 1; next }
  inside && /^```$/ { exit }
  inside { print }
' README.md)"
if [[ -z "$block" ]]; then
  echo "emulator-walkthrough: no \`\`\`sh block after a line starting with '$marker' in README.md" >&2
  exit 1
fi
work="$(mktemp -d)"
script="$work/walkthrough.sh"
transcript="$work/walkthrough.log"
{
  echo 'set -euo pipefail -x'
  printf '%s\n' "$block"
} > "$script"
echo "emulator-walkthrough: running the README's block ($(wc -l < "$script") lines), time limit ${limit}s"

# ---- two free ports on 127.0.0.1 (held together while picked, so they differ)
read -r EMULATOR_PORT INVOKE_PORT < <(python3 -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
for s in sockets:
    s.close()
')
export EMULATOR_PORT INVOKE_PORT
echo "emulator-walkthrough: emulator on port $EMULATOR_PORT, Invoke endpoint on port $INVOKE_PORT"

# Logs of an earlier run would pass the checks below.
mkdir -p target
rm -f target/emulator.log target/hello.log

# ---- run it in a session of its own
session=""
follower=""
status=1
finish() {
  local code=$?
  if [[ -n "$follower" ]]; then kill "$follower" 2>/dev/null || true; fi
  if [[ -n "$session" ]]; then
    # Every process left in the walkthrough's session, by id: TERM, then KILL what remains.
    local pids
    pids="$(ps -eo pid=,sid= | awk -v sid="$session" '$2 == sid { print $1 }')"
    if [[ -n "$pids" ]]; then
      echo "emulator-walkthrough: stopping what the walkthrough left running:" $pids
      kill -TERM $pids 2>/dev/null || true
      for _ in $(seq 30); do
        pids="$(ps -eo pid=,sid= | awk -v sid="$session" '$2 == sid { print $1 }')"
        [[ -z "$pids" ]] && break
        sleep 0.5
      done
      if [[ -n "$pids" ]]; then kill -KILL $pids 2>/dev/null || true; fi
    fi
  fi
  if [[ $status -ne 0 || $code -ne 0 ]]; then
    for log in target/emulator.log target/hello.log; do
      if [[ -f "$log" ]]; then
        echo "---- the last 150 lines of $log"
        tail -n 150 "$log"
      fi
    done
    echo "emulator-walkthrough: FAILED after $((SECONDS - started)) s (transcript: $transcript)" >&2
    [[ $code -ne 0 ]] || code=1
  fi
  exit "$code"
}
trap finish EXIT
trap 'exit 130' INT TERM

# setsid makes the walkthrough's shell the leader of a new session (it does not fork: a
# background child of this non-interactive script leads no process group), so its session id
# is its process id.
setsid bash "$script" > "$transcript" 2>&1 < /dev/null &
pid=$!
session="$(ps -o sid= -p "$pid" | tr -d ' ' || true)"
[[ -n "$session" ]] || session="$pid"
tail -n +1 -f "$transcript" --pid="$pid" &
follower=$!

timed_out=false
while kill -0 "$pid" 2>/dev/null; do
  if (( SECONDS - started >= limit )); then
    timed_out=true
    break
  fi
  sleep 1
done
if $timed_out; then
  echo "emulator-walkthrough: the walkthrough did not finish within ${limit}s" >&2
  exit 1
fi
rc=0
wait "$pid" || rc=$?
wait "$follower" 2>/dev/null || true
follower=""
if [[ $rc -ne 0 ]]; then
  echo "emulator-walkthrough: the walkthrough failed (exit status $rc)" >&2
  exit "$rc"
fi

# ---- what the walkthrough shows
check() {
  local what="$1" file="$2" pattern="$3"
  if ! grep -qE -- "$pattern" "$file"; then
    echo "emulator-walkthrough: $what: no match for /$pattern/ in $file" >&2
    exit 1
  fi
}
check "the execution ended" "$transcript" '"Status": "SUCCEEDED"'
check "its result names the approver" "$transcript" 'approved_by\\":\\"grace'
check "the function logged the approval request" target/hello.log 'order order-42 waits for approval: callback id '
check "the function logged the end" target/hello.log 'order processed'
check "hello's tests passed" "$transcript" '^test result: ok\. [1-9][0-9]* passed; 0 failed'
starts="$(grep -c 'POST /start-durable-execution' target/emulator.log || true)"
# One execution of the walkthrough, and at least one per test that runs on the cloud runner.
if (( starts < 2 )); then
  echo "emulator-walkthrough: the emulator started $starts execution(s): did the tests run against it?" >&2
  exit 1
fi
status=0
echo "emulator-walkthrough: passed in $((SECONDS - started)) s ($starts executions started on the emulator)"
