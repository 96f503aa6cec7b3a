#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) each, one after another, on the seed corpora
# (fuzz/seed-corpora.sh) plus whatever earlier runs added to fuzz/corpus/. Installs cargo-fuzz
# when missing. cargo-fuzz builds with nightly-only sanitizer flags; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain accept them.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]     (targets: spec krm post_render)
# A crash, hang (> 10 s) or allocation over 2 GB stops the run; the input is in
# fuzz/artifacts/<target>/. Add it to tests/invalid/ with an `# expect:` line once fixed.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(spec krm post_render)
export RUSTC_BOOTSTRAP=1

if ! command -v cargo-fuzz >/dev/null; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
./seed-corpora.sh
cargo fuzz build
summary=()
for target in "${targets[@]}"; do
  log="artifacts/${target}.log"
  mkdir -p artifacts
  echo "::: fuzzing ${target} for ${seconds}s (log: fuzz/${log})"
  if ! cargo fuzz run "$target" -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "::: ${target}: FAILED; the input is in fuzz/artifacts/${target}/"
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  summary+=("${target}: ${runs} runs, 0 crashes")
done
echo "::: fuzz: ${summary[*]} (${seconds}s each)"
