#!/usr/bin/env bash
# Offline checks of what the README's "Deploying" section deploys; no AWS account needed.
#
#   bash .ci/deploy-check.sh                  # templates, then the hello bootstrap
#   bash .ci/deploy-check.sh --templates-only # templates only (no cargo build)
#
# 1. Tools: a Python virtual environment (default target/deploy-tools, or $DEPLOY_TOOLS_VENV)
#    with the versions pinned in .ci/deploy-requirements.txt (cfn-lint, aws-sam-translator,
#    cargo-lambda and the zig it links with). Kept when it already has them.
# 2. Templates (examples/*/template.yaml):
#    a. cfn-lint on each template;
#    b. .ci/deploy-check.py: what cfn-lint does not check on SAM functions (the ranges of
#       DurableConfig and Timeout) and the build settings (Runtime, Architectures, Handler and
#       CodeUri against the build below, JSON logs, an alias);
#    c. the SAM transform (offline, as `sam deploy` runs it after uploading the code) and
#       cfn-lint on its output, which checks the generated AWS::Lambda::Function, Version and
#       Alias (ranges, references such as Function.Alias) as it does not on SAM resources.
# 3. Bootstrap: `cargo lambda build` of examples/hello, as the templates expect it (x86_64,
#    stripped, panic = "unwind"); checks that it is an ELF executable for x86_64 that needs no
#    newer glibc than provided.al2023's, and prints its size and the build time.
#
# Needs: a Rust toolchain (rustup), python3 with the venv module (Debian: python3-venv), and
# access to PyPI and crates.io.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

templates_only=false
case "${1:-}" in
  "") ;;
  --templates-only) templates_only=true ;;
  *) echo "usage: bash .ci/deploy-check.sh [--templates-only]" >&2; exit 2 ;;
esac

# The build the templates assume (their Architectures and CodeUri).
arch=x86_64
rust_target=x86_64-unknown-linux-gnu
example=hello

venv="${DEPLOY_TOOLS_VENV:-$root/target/deploy-tools}"
requirements="$root/.ci/deploy-requirements.txt"
marker="$venv/deploy-tools.installed"

# ---- 1. tools
command -v python3 >/dev/null || { echo "deploy-check: python3 is required" >&2; exit 1; }
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ -f "$marker" ]] && cmp -s "$marker" "$requirements" && [[ -x "$venv/bin/python" ]]; then
  echo "deploy-check: tools already in $venv"
else
  echo "deploy-check: installing the pinned tools into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || {
    echo "deploy-check: python3 -m venv failed; on Debian or Ubuntu: apt-get install python3-venv" >&2
    exit 1
  }
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --requirement "$requirements"
  "$venv/bin/python" -m pip check
  cp "$requirements" "$marker"
fi
exec 9>&-
# cargo-lambda from the venv; cargo-zigbuild (inside it) links with the zig of the ziglang wheel.
export PATH="$venv/bin:$PATH"
CARGO_ZIGBUILD_ZIG_PATH="$("$venv/bin/python" -c \
  'import pathlib, ziglang; print(pathlib.Path(ziglang.__file__).with_name("zig"))')"
export CARGO_ZIGBUILD_ZIG_PATH
echo "deploy-check: $(cfn-lint --version), aws-sam-translator $("$venv/bin/python" -c \
  'import samtranslator; print(samtranslator.__version__)'), $(cargo lambda --version), zig $("$CARGO_ZIGBUILD_ZIG_PATH" version)"

# ---- 2. templates
shopt -s nullglob
templates=(examples/*/template.yaml)
shopt -u nullglob
[[ ${#templates[@]} -gt 0 ]] || { echo "deploy-check: no examples/*/template.yaml" >&2; exit 1; }

echo "== cfn-lint (${#templates[@]} templates)"
cfn-lint -- "${templates[@]}"

echo "== template ranges and build settings"
"$venv/bin/python" .ci/deploy-check.py templates "$arch" "${templates[@]}"

echo "== SAM transform, then cfn-lint on the generated CloudFormation"
transformed="$root/target/deploy-check"
rm -rf "$transformed"
mkdir -p "$transformed"
for template in "${templates[@]}"; do
  crate="$(basename "$(dirname "$template")")"
  "$venv/bin/python" .ci/deploy-check.py transform "$template" "$transformed/$crate.json"
done
cfn-lint -- "$transformed"/*.json
echo "deploy-check: the generated templates are in ${transformed#"$root"/}/"

if $templates_only; then
  echo "deploy-check: templates passed (bootstrap not built)"
  exit 0
fi

# ---- 3. bootstrap
echo "== cargo lambda build (examples/$example, $arch)"
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$rust_target"; then
  rustup target add "$rust_target"
fi
target_dir="$(cargo metadata --format-version 1 --no-deps --locked \
  | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
if [[ "$target_dir" != "$root/target" ]]; then
  echo "deploy-check: note: the target directory is $target_dir; the templates' CodeUri expects target/ at the repository root"
fi
# --disable-optimizations: cargo lambda's release settings would set panic = "abort" (the SDK
# records a panic in a step as the step's failure, which needs panic = "unwind"), thin LTO and
# one codegen unit; the strip variable keeps the symbols out, as those settings would.
start=$(date +%s%N)
CARGO_PROFILE_RELEASE_STRIP=true cargo lambda build --release --disable-optimizations \
  "--${arch//_/-}" --locked -p "$example"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
bootstrap="$target_dir/lambda/$example/bootstrap"
"$venv/bin/python" .ci/deploy-check.py bootstrap "$arch" "$bootstrap"
echo "deploy-check: cargo lambda build took $((elapsed_ms / 1000)).$(printf %03d $((elapsed_ms % 1000))) s"
echo "deploy-check: passed"
