#!/usr/bin/env bash
# Runs one carlo config as an AWS Batch array job of N shards, then a merge job that
# depends on the whole array and writes the summary of one run (the same estimate
# bits as running it on one machine).
#
#   usage: bash examples/aws-batch/submit.sh CONFIG N [JOB_QUEUE]
#
# CONFIG is a path relative to the EFS file system that every job mounts at
# /mnt/carlo (copy the config there first); the partials go to
# /mnt/carlo/NAME-shards/ and the summary to /mnt/carlo/NAME.csv. Register the two
# job definitions once (after setting your image and file system id in them):
#
#   aws batch register-job-definition --cli-input-json file://examples/aws-batch/job-definition.json
#   aws batch register-job-definition --cli-input-json file://examples/aws-batch/merge-job-definition.json
#
# docs/clusters.md explains each step; tests/schedulers.rs runs this script against a
# stand-in aws and checks the merged bits.
set -euo pipefail

config=${1:?usage: $0 CONFIG N [JOB_QUEUE]}
shards=${2:?usage: $0 CONFIG N [JOB_QUEUE]}
queue=${3:-carlo}
name=$(basename "$config" .toml)
# AWS Batch arrays hold 2 to 10,000 child jobs.
if ! [[ $shards =~ ^[0-9]+$ ]] || ((shards < 2 || shards > 10000)); then
    echo "error: an AWS Batch array has 2 to 10000 jobs, not '$shards'" >&2
    exit 2
fi
# The values go into JSON below unescaped.
if [[ $config =~ [\"\\[:cntrl:]] ]]; then
    echo "error: the config path '$config' holds a quote, backslash or control character" >&2
    exit 2
fi
environment="[{\"name\":\"CARLO_CONFIG\",\"value\":\"$config\"},\
{\"name\":\"CARLO_NAME\",\"value\":\"$name\"},\
{\"name\":\"CARLO_SHARDS\",\"value\":\"$shards\"}]"

# 1. The array: child job I (AWS_BATCH_JOB_ARRAY_INDEX, from 0) runs shard I+1 of
#    AWS_BATCH_JOB_ARRAY_SIZE, which `--shard auto` reads. A child that fails or whose
#    Spot host is reclaimed is retried (the job definition's retryStrategy) and
#    rewrites the same partial: a shard has the same bits wherever it runs.
array=$(aws batch submit-job --job-name "carlo-$name" --job-queue "$queue" \
    --job-definition carlo-shard --array-properties "size=$shards" \
    --container-overrides "{\"environment\":$environment}" \
    --query jobId --output text)

# 2. The merge: a job that depends on an array job's id starts once every child has
#    succeeded (and fails if one fails for good). merge checks that the partials
#    belong to one run and hold every chunk once before it writes the summary.
merge=$(aws batch submit-job --job-name "carlo-$name-merge" --job-queue "$queue" \
    --job-definition carlo-merge --depends-on "jobId=$array" \
    --container-overrides "{\"environment\":$environment}" \
    --query jobId --output text)

echo "submitted array $array ($shards shards) and merge $merge: summary in /mnt/carlo/$name.csv"
