#!/usr/bin/env bash
# Barrier Greeks: the conditional pathwise estimator against a central bump with
# common random numbers (carlo's own --sweep) on configs/barrier.toml (up-and-out
# call, barrier 120, 252 dates), 2e5 paths, one worker: standard errors and wall
# seconds. Run from the repository root after `cargo build --release`:
#   bash benches/barrier-greeks.sh
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
carlo=${CARLO:-target/release/carlo}
n=${N:-200000}
common=(run configs/barrier.toml --samples "$n" --backend sequential --quiet --out - --format csv)
t0=$(date +%s.%N); $carlo "${common[@]}" --set 'model.greeks=["delta","gamma","vega","rho","theta"]' > "$dir"/greeks.csv; t1=$(date +%s.%N)
echo "greeks: $(echo "$t1 - $t0" | bc) s"
t0=$(date +%s.%N); $carlo "${common[@]}" > "$dir"/price.csv; t1=$(date +%s.%N)
echo "price alone (vector loop): $(echo "$t1 - $t0" | bc) s"
for sweep in "model.spot=99,101" "model.volatility=0.19,0.21" "model.rate=0.04,0.06"; do
  t0=$(date +%s.%N); $carlo "${common[@]}" --sweep "$sweep" > "$dir/sweep-${sweep%%=*}.csv"; t1=$(date +%s.%N)
  echo "sweep $sweep: $(echo "$t1 - $t0" | bc) s"
done
DIR="$dir" python3 - <<'PY'
import csv, os
d = os.environ['DIR']
g={r['quantity']:r for r in csv.DictReader(open(d+'/greeks.csv'))}
for q in ['price','delta','gamma','vega','rho','theta']:
    r=g[q]; print(f"{q:6s} {float(r['estimate']):+.6f} se {float(r['std_error']):.3e} se/|v| {float(r['std_error'])/abs(float(r['estimate'])):.4f}")
for k in ['spot','volatility','rate']:
    for r in csv.DictReader(open(d+f'/sweep-model.{k}.csv')):
        if r['quantity'].startswith('dprice'):
            print(f"bump d/d{k}: {float(r['estimate']):+.6f} se {float(r['std_error']):.3e}")
PY
