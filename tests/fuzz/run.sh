#!/usr/bin/env bash
# One libFuzzer target for a bounded time: replays every regression input,
# then fuzzes from the seed corpus (new inputs go to a scratch directory,
# removed after; the seeds are not changed). A crash prints the input's path
# and fails; copy it into regressions/<target>/ with the fix.
#   run.sh TARGET SEED_DIR REGRESSION_DIR SECONDS
set -euo pipefail
target=$1 seeds=$2 regressions=$3 seconds=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if compgen -G "$regressions/*" >/dev/null; then
  "$target" -runs=0 "$regressions"/* >"$work/replay.log" 2>&1 || { tail -40 "$work/replay.log"; exit 1; }
  echo "replayed $(find "$regressions" -type f | wc -l) regression inputs"
fi
mkdir "$work/corpus" "$work/artifacts"
rc=0
"$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds" >"$work/fuzz.log" 2>&1 || rc=$?
grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|#[0-9]+.*DONE" "$work/fuzz.log" | tail -3 || true
if [ $rc -ne 0 ]; then
  tail -60 "$work/fuzz.log"
  for a in "$work"/artifacts/*; do
    [ -f "$a" ] || continue
    keep="${TMPDIR:-/tmp}/$(basename "$target")-$(basename "$a")"
    cp "$a" "$keep"
    echo "FAIL: $(basename "$target"): crash input kept at $keep ($(xxd -p "$a" | head -c 200))"
  done
  exit 1
fi
echo "PASS: $(basename "$target"): no crash in ${seconds} s from $(find "$seeds" -type f | wc -l) seeds"
