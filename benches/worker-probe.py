#!/usr/bin/env python3
"""What one `carlo worker` costs besides computing: start-up (spawn and model build,
until it answers the hello), the size of its messages, and its round trip and CPU time
per chunk for chunks of two samples (so the work itself is nothing).

    usage: python3 benches/worker-probe.py [CARLO] [CONFIG...]
    default: target/release/carlo and every file in configs/

The job comes from the config exactly as `carlo run` builds it (read back from the
header of a one-shard partial), so the worker is greeted as the parent would greet it.
docs/performance.md has the figures and how they combine into the parent's share.
"""

import json
import os
import subprocess
import sys
import time

carlo = sys.argv[1] if len(sys.argv) > 1 else "target/release/carlo"
configs = sys.argv[2:] or sorted(
    os.path.join("configs", f) for f in os.listdir("configs") if f.endswith(".toml")
)
CHUNKS = 20000
TICK = os.sysconf("SC_CLK_TCK")


def job_of(config, chunk_size):
    """The job `carlo run CONFIG` runs, with chunks of `chunk_size` samples."""
    run = subprocess.run(
        [carlo, "run", config, "--shard", "1/1", "--out", "-", "--quiet",
         "--samples", str(chunk_size * CHUNKS), "--chunk-size", str(chunk_size),
         "--backend", "sequential"],
        capture_output=True, text=True,
    )
    if run.returncode != 0:
        return None, run.stderr.strip()
    return json.loads(run.stdout.splitlines()[0])["job"], None


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def probe(config):
    job, why = job_of(config, 2)
    if job is None:
        print(f"{os.path.basename(config):20} skipped: {why}")
        return
    hello = json.dumps({"type": "hello", "v": 1, "job": job}) + "\n"
    start = time.perf_counter()
    worker = subprocess.Popen([carlo, "worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, bufsize=0)
    worker.stdin.write(hello.encode())
    ready = worker.stdout.readline()
    startup = time.perf_counter() - start
    assert b'"ready"' in ready, ready
    # One chunk in flight at a time: the round trip of a message pair.
    request_bytes = reply_bytes = 0
    cpu0 = cpu_seconds(worker.pid)
    t0 = time.perf_counter()
    out = worker.stdout
    for i in range(CHUNKS):
        line = json.dumps({"type": "chunk", "index": i, "attempt": 0},
                          separators=(",", ":")) + "\n"
        request_bytes += len(line)
        worker.stdin.write(line.encode())
        reply = out.readline()
        reply_bytes += len(reply)
    round_trip = (time.perf_counter() - t0) / CHUNKS
    cpu = (cpu_seconds(worker.pid) - cpu0) / CHUNKS
    worker.stdin.close()
    worker.wait()
    print(f"{os.path.basename(config):20} {job['model']['type']:9} "
          f"start+model {startup * 1e3:7.2f} ms  "
          f"request {request_bytes / CHUNKS:5.1f} B  reply {reply_bytes / CHUNKS:6.1f} B  "
          f"round trip {round_trip * 1e6:6.1f} us  worker CPU {cpu * 1e6:5.1f} us/chunk "
          f"(chunks of 2 samples)")


for config in configs:
    probe(config)
