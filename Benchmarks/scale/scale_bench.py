"""Scale-out benchmarks of `hounsfield coordinator` and `hounsfield worker` (docs/scale-out.md, "Measured").

  real      the 24-series batch (folders of one series each) through `hounsfield run --jobs 2` and through a
            coordinator with 1 worker (--jobs 2) and with 2 workers (--jobs 1 each); wall time from start to the
            coordinator's exit, interleaved rounds, medians and ratios, manifests compared key by key.
  simulate  N empty study folders, W workers that sleep D seconds per unit instead of converting it
            (`hounsfield worker --simulate D`): efficiency = (N·D/W) / wall time, the coordinator's CPU per unit,
            its peak RSS. Optionally one worker SIGKILLed half way: the time until its units were leased again.

Usage:
  python3 Benchmarks/scale/scale_bench.py real --batch DIR [--rounds 3] [--binary PATH]
  python3 Benchmarks/scale/scale_bench.py simulate --units 10000 --workers 64 --unit-seconds 0.2 [--kill-one]
Writes a JSON line per measurement to stdout and Benchmarks/scale/results.jsonl (git-ignored).
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
JOB = ["--spacing", "1", "--window", "0,2000", "--normalize", "minmax", "--salt", "scale-bench"]


def binary(path):
    path = path or os.path.join(ROOT, ".build/release/hounsfield")
    if not os.access(path, os.X_OK):
        sys.exit(f"no hounsfield at {path}: swift build -c release --product hounsfield")
    return path


def record(entry):
    print(json.dumps(entry), flush=True)
    with open(os.path.join(HERE, "results.jsonl"), "a") as out:
        out.write(json.dumps(entry) + "\n")


def wait_for_address(output, coordinator, timeout=600):
    path = os.path.join(output, ".hounsfield", "coordinator.address")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            text = open(path).read().strip()
            if text:
                return text
        if coordinator.poll() is not None:
            sys.exit(f"the coordinator exited with {coordinator.returncode} before listening")
        time.sleep(0.002)
    sys.exit("the coordinator did not listen")


def cpu_seconds(pid):
    """user + system CPU seconds of a live process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def coordinated(hf, inputs, output, workers, jobs, ttl=60, simulate=None, depth=1, kill_one_at=None, log=None,
                capacity=None):
    """Runs a coordinator and `workers` workers to the end. Returns (seconds from the coordinator's start to its
    exit, coordinator CPU seconds, coordinator peak RSS MB, killed worker or None)."""
    shutil.rmtree(output, ignore_errors=True)
    log = log or open(os.devnull, "w")
    started = time.perf_counter()
    coordinator = subprocess.Popen(
        [hf, "coordinator", *inputs, "--output", output, "--listen", "127.0.0.1:0", "--depth", str(depth),
         "--lease-ttl", str(ttl), *JOB], stdout=log, stderr=log)
    address = wait_for_address(output, coordinator)
    procs = []
    for index in range(workers):
        command = [hf, "worker", "--coordinator", address, "--name", f"w{index}", "--jobs", str(jobs)]
        if simulate is not None:
            command += ["--simulate", str(simulate)]
        if capacity is not None:
            command += ["--capacity", str(capacity)]
        procs.append(subprocess.Popen(command, stdout=log, stderr=log))
    killed = None
    sample = {"cpu": 0.0, "rss": 0.0}

    def watch():
        # Samples the coordinator's CPU and RSS (and kills a worker when asked) beside the wait below, so that the
        # measured end is the coordinator's exit itself, not the next 50 ms sample.
        nonlocal killed
        while coordinator.poll() is None:
            try:
                sample["cpu"] = cpu_seconds(coordinator.pid)
                sample["rss"] = max(sample["rss"], peak_rss_mb(coordinator.pid))
            except OSError:
                pass
            if kill_one_at is not None and killed is None and time.perf_counter() - started >= kill_one_at:
                killed = f"w{workers // 2}"
                procs[workers // 2].send_signal(signal.SIGKILL)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    coordinator.wait()
    seconds = time.perf_counter() - started
    watcher.join()
    cpu, rss = sample["cpu"], sample["rss"]
    for proc in procs:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    if coordinator.returncode not in (0, 3):
        sys.exit(f"the coordinator exited with {coordinator.returncode}")
    return seconds, cpu, rss, killed


def manifest(folder):
    with open(os.path.join(folder, "manifest.jsonl")) as lines:
        return {json.loads(line)["key"]: json.loads(line)["checksum"] for line in lines if line.strip()}


def real(args):
    hf = binary(args.binary)
    work = tempfile.mkdtemp(prefix="hf-scale-real-")
    batch = os.path.abspath(args.batch)
    times = {"run --jobs 2": [], "1 worker, --jobs 2": [], "2 workers, --jobs 1": []}
    try:
        for round_ in range(args.rounds):
            order = list(times)
            if round_ % 2:
                order.reverse()
            for label in order:
                out = os.path.join(work, "out")
                # The previous measurement's shards are still being written back: without a sync first, the next
                # one's fsyncs (a coordinated run makes one per unit) would wait behind them.
                shutil.rmtree(out, ignore_errors=True)
                os.sync()
                if label.startswith("run"):
                    shutil.rmtree(out, ignore_errors=True)
                    start = time.perf_counter()
                    subprocess.run([hf, "run", batch, "--output", out, "--jobs", "2", *JOB], check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    times[label].append(time.perf_counter() - start)
                    reference = manifest(out)
                else:
                    workers, jobs = (1, 2) if label.startswith("1") else (2, 1)
                    start = time.perf_counter()
                    coordinated(hf, [batch], out, workers, jobs)
                    times[label].append(time.perf_counter() - start)
                    same = manifest(out) == reference
                    if not same:
                        sys.exit(f"{label}: the manifest differs from run's")
        base = statistics.median(times["run --jobs 2"])
        record({"benchmark": "scale-real", "series": len(os.listdir(batch)), "rounds": args.rounds,
                "seconds": {k: [round(x, 2) for x in v] for k, v in times.items()},
                "median": {k: round(statistics.median(v), 2) for k, v in times.items()},
                "ratio_to_run": {k: round(statistics.median(v) / base, 3) for k, v in times.items()},
                # The machine's speed drifts between rounds: the ratio taken within each round, then its median.
                "ratio_within_rounds": {k: round(statistics.median(
                    x / r for x, r in zip(v, times["run --jobs 2"])), 3) for k, v in times.items()},
                "manifests_equal": True})
    finally:
        shutil.rmtree(work, ignore_errors=True)


def simulate(args):
    hf = binary(args.binary)
    work = tempfile.mkdtemp(prefix="hf-scale-sim-")
    try:
        archive = os.path.join(work, "archive")
        os.makedirs(archive)
        for index in range(args.units):
            os.mkdir(os.path.join(archive, f"study-{index:06d}"))
        output = os.path.join(work, "out")
        seconds, cpu, rss, killed = coordinated(
            hf, [archive], output, args.workers, 1, ttl=args.ttl, simulate=args.unit_seconds,
            kill_one_at=args.kill_at if args.kill_one else None,
            log=open(os.path.join(HERE, "simulate.log"), "w"), capacity=args.capacity)
        ideal = args.units * args.unit_seconds / args.workers
        entry = {"benchmark": "scale-simulate", "units": args.units, "workers": args.workers, "capacity": args.capacity,
                 "unit_seconds": args.unit_seconds, "ttl": args.ttl, "seconds": round(seconds, 2),
                 "ideal_seconds": round(ideal, 2), "efficiency": round(ideal / seconds, 3),
                 "coordinator_cpu_seconds": round(cpu, 2),
                 "coordinator_cpu_ms_per_unit": round(1000 * cpu / args.units, 3),
                 "coordinator_peak_rss_mb": round(rss, 1)}
        journal = os.path.join(output, ".hounsfield", "journal.sqlite")
        first, last = sqlite3.connect(journal).execute(
            "SELECT MIN(started), MAX(ended) FROM attempt").fetchone()
        # Without the workers' start-up (64 processes starting on 2 cores take a second or two): from the first
        # lease to the last completion.
        entry["seconds_first_lease_to_last_completion"] = round(last - first, 2)
        entry["efficiency_from_first_lease"] = round(ideal / (last - first), 3)
        if killed:
            entry.update(recovery(journal, killed))
        record(entry)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def recovery(journal, worker):
    """How long the killed worker's units waited: from its last heartbeat-renewed deadline minus the TTL (about when
    it died) to their next lease."""
    db = sqlite3.connect(journal)
    rows = db.execute("""
        SELECT a.unit, a.started, b.started FROM attempt a JOIN attempt b ON b.unit = a.unit AND b.epoch = a.epoch + 1
        WHERE a.worker = ? AND a.end = 'expired'""", (worker,)).fetchall()
    waits = [later - first for _, first, later in rows]
    return {"killed": worker, "units_recovered": len(rows),
            "lease_to_next_lease_seconds": round(max(waits), 2) if waits else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("real")
    r.add_argument("--batch", required=True)
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--binary")
    s = sub.add_parser("simulate")
    s.add_argument("--units", type=int, default=10_000)
    s.add_argument("--workers", type=int, default=64)
    s.add_argument("--unit-seconds", type=float, default=0.2)
    s.add_argument("--ttl", type=int, default=60)
    # A simulated worker sleeps through one unit at a time: one in hand and one ready is all it can use.
    s.add_argument("--capacity", type=int, default=2)
    s.add_argument("--kill-one", action="store_true")
    s.add_argument("--kill-at", type=float, default=10.0)
    s.add_argument("--binary")
    args = parser.parse_args()
    (real if args.command == "real" else simulate)(args)


if __name__ == "__main__":
    main()
