#!/usr/bin/env bash
# Runs one carlo config as a Slurm job array of N shards, then merges the shards into
# the summary of one run (the same estimate bits as running it on one machine).
#
#   usage: bash examples/slurm-array.sh CONFIG N [CPUS_PER_SHARD]
#
# Needs `carlo` on the PATH of the compute nodes (or CARLO=/path/to/carlo) and a file
# system shared by the nodes, where the partials and the summary are written.
set -euo pipefail

config=${1:?usage: $0 CONFIG N [CPUS_PER_SHARD]}
shards=${2:?usage: $0 CONFIG N [CPUS_PER_SHARD]}
cpus=${3:-4}
carlo=${CARLO:-carlo}
name=$(basename "$config" .toml)
parts=results/$name-shards
mkdir -p "$parts"

# 1. The array: task I runs shard I/N. With --shard auto carlo reads SLURM_ARRAY_TASK_ID,
#    SLURM_ARRAY_TASK_COUNT and SLURM_ARRAY_TASK_MIN itself, so the command names no
#    shard; each shard runs its chunks on a thread per allocated CPU. `--parsable`
#    prints the array's job id (`ID` or `ID;CLUSTER`).
array=$(sbatch --parsable --array=1-"$shards" --cpus-per-task="$cpus" \
    --job-name="carlo-$name" --output="$parts/shard-%a.log" \
    --wrap="$carlo run $config --shard auto --workers $cpus --quiet --out $parts/part-\$SLURM_ARRAY_TASK_ID-of-$shards.json")
array=${array%%;*}

# 2. The merge: `afterok` on the array's id waits for every task and runs only if all
#    of them succeeded. merge checks that the partials belong to one run and hold
#    every chunk once (it names any missing shard) before it writes the summary.
merge=$(sbatch --parsable --dependency=afterok:"$array" \
    --job-name="carlo-$name-merge" --output="$parts/merge.log" \
    --wrap="$carlo merge $parts/part-*-of-$shards.json --out results/$name.csv --quiet")

echo "submitted array $array ($shards shards) and merge ${merge%%;*}: summary in results/$name.csv"
