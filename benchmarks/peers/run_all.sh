#!/usr/bin/env bash
# Run the reference matmul and both peers at the SMALL and MEDIUM configs, one after the
# other in a single run (only ratios measured within one such run are meaningful).
# Usage: bash benchmarks/peers/run_all.sh [VENV] [OUTDIR]
#        (defaults: ~/.cache/muse_peers_venv, ./peer_results; make the venv with setup_venv.sh)
# Extra env: REPEATS (default 3), DECODE_REPEATS (default 2), MAX_WAIT_IDLE_S (default 300),
#            EXTRAS=1 to also run the variant points (no CFG, full aMUSEd UVit blocks, flash off).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
VENV="${1:-$HOME/.cache/muse_peers_venv}"
OUT="${2:-peer_results}"
PY="$VENV/bin/python"
REPEATS="${REPEATS:-3}"
DECODE_REPEATS="${DECODE_REPEATS:-2}"
MAX_WAIT_IDLE_S="${MAX_WAIT_IDLE_S:-300}"
mkdir -p "$OUT"

# 2-thread OpenMP runs stall badly when anything else is using a core. Before each
# benchmark, wait (bounded) until the machine has been idle for a 5 s sample
# (/proc/stat busy cores < 0.15). Inside the benchmarks, timed runs that overlapped
# with other load are discarded and redone (see bench_common.time_runs).
busy_cores() {  # average busy cores over 5 s
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat); sleep 5
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
  awk -v a="$a" -v b="$b" -v n="$(nproc)" 'BEGIN{split(a,x," "); split(b,y," "); t=y[2]-x[2]; if (t<=0) t=1; printf "%.2f", n*(y[1]-x[1])/t}'
}
wait_idle() {
  local waited=0 busy
  while :; do
    busy=$(busy_cores)
    if awk -v l="$busy" 'BEGIN{exit !(l < 0.15)}'; then return 0; fi
    if [ "$waited" -ge "$MAX_WAIT_IDLE_S" ]; then
      echo "WARNING: machine still busy ($busy cores) after ${waited}s; timings may be contended" >&2
      return 0
    fi
    waited=$((waited + 5))
  done
}

SMALL="--tokens-side 16 --hidden 256 --depth 4 --heads 4 --codebook 1024 --steps 12 --batch 4 --cfg on"
MEDIUM="--tokens-side 16 --hidden 512 --depth 8 --heads 8 --codebook 8192 --steps 12 --batch 4 --cfg on"

wait_idle
"$PY" "$HERE/bench_matmul.py" | tee "$OUT/matmul.json"

for cfg in SMALL MEDIUM; do
  for peer in amused muse_maskgit_pytorch; do
    wait_idle
    echo "== $cfg $peer" >&2
    # shellcheck disable=SC2086
    "$PY" "$HERE/bench_$peer.py" ${!cfg} --label "$cfg" --repeats "$REPEATS" --decode-repeats "$DECODE_REPEATS" \
      > "$OUT/${cfg,,}_$peer.json" 2> "$OUT/${cfg,,}_$peer.err"
    cat "$OUT/${cfg,,}_$peer.json"
  done
done

# Optional variants (EXTRAS=1): generation only, no VQ decode.
if [ "${EXTRAS:-0}" = 1 ]; then
  run_extra() {  # name peer args...
    local name=$1 peer=$2; shift 2
    wait_idle
    echo "== extra $name" >&2
    "$PY" "$HERE/bench_$peer.py" "$@" --label "$name" --repeats "$REPEATS" --decode-repeats 0 \
      > "$OUT/extra_${name}.json" 2> "$OUT/extra_${name}.err"
    cat "$OUT/extra_${name}.json"
  }
  # shellcheck disable=SC2086
  {
    run_extra SMALL-nocfg_amused amused $SMALL --cfg off
    run_extra SMALL-nocfg_muse_maskgit_pytorch muse_maskgit_pytorch $SMALL --cfg off
    run_extra SMALL-uvit3_amused amused $SMALL --res-blocks 3
    run_extra MEDIUM-uvit3_amused amused $MEDIUM --res-blocks 3
    run_extra SMALL-noflash_muse_maskgit_pytorch muse_maskgit_pytorch $SMALL --flash off
    run_extra MEDIUM-noflash_muse_maskgit_pytorch muse_maskgit_pytorch $MEDIUM --flash off
  }
fi

"$PY" "$HERE/summarize.py" "$OUT"/matmul.json "$OUT"/small_*.json "$OUT"/medium_*.json \
  $(ls "$OUT"/extra_*.json 2>/dev/null) | tee "$OUT/summary.md"
