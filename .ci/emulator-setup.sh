#!/usr/bin/env bash
# Installs AWS's local durable-execution emulator (PyPI aws-durable-execution-sdk-python-testing,
# command dex-local-runner) into a Python virtual environment, for the emulator tests
# (examples/emulator-functions/tests/emulator.rs).
#
#   bash .ci/emulator-setup.sh [VENV_DIR]     # default: $DEX_EMULATOR_VENV, else target/dex-emulator
#
# The versions are pinned in examples/emulator-functions/emulator-requirements.txt. Nothing is
# done when the venv already has them; a venv with other versions is rebuilt. Safe to run
# concurrently (the tests run it when the venv is missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-${DEX_EMULATOR_VENV:-$root/target/dex-emulator}}"
requirements="$root/examples/emulator-functions/emulator-requirements.txt"
version="$(sed -n 's/^aws-durable-execution-sdk-python-testing==//p' "$requirements")"
marker="$venv/dex-local-runner-$version.installed"

command -v python3 >/dev/null || { echo "emulator-setup: python3 is required" >&2; exit 1; }
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9

if [[ -f "$marker" ]] && cmp -s "$marker" "$requirements" && [[ -x "$venv/bin/python" ]]; then
  echo "emulator-setup: dex-local-runner $version is already in $venv"
  exit 0
fi

echo "emulator-setup: installing dex-local-runner $version into $venv"
# Built in place (a venv's scripts hold absolute paths); the marker, written last, says it
# is complete.
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --requirement "$requirements"
"$venv/bin/python" -c "import aws_durable_execution_sdk_python_testing.cli"
cp "$requirements" "$marker"
echo "emulator-setup: done"
