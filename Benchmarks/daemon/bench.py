"""Benchmarks of `hounsfield serve` (the daemon), side by side with `hounsfield run` and DCMTK's storescp, in one run.

  http     POST /v1/studies with a 512×512×300 CT as a tar: per-study latency (p50, p99, mean) and the
           Server-Timing split (upload, parse, process, encode), one client (N sequential after warm-ups) and two
           concurrent clients (serve.http.concurrent_studies: 2), for two processing configurations; and
           `hounsfield run` on the same folder with the same flags (wall time of the process).
  cstore   C-STORE ingest (storescu → our receiver vs. storescp -od), 1 sender and 4 parallel senders, after a short
           probe of DCMTK's TCP_NODELAY environment variable; and the time from storescu's exit (last instance
           acknowledged) to the series in OUTPUT/manifest.jsonl, plus hounsfield_last_instance_to_shard_seconds.
  soak     mixed traffic (storescu series, HTTP posts, watch-folder drops) for a fixed time; RSS and open FDs of the
           daemon every 5 s: start, end, max and the least-squares slope per minute after the first minute.

Usage: python3 Benchmarks/daemon/bench.py [--quick] [--only http,cstore,soak] [--work DIR] [--binary PATH]
Writes Benchmarks/daemon/results/results.json (gitignored) and prints a summary.
"""
import argparse
import datetime
import http.client
import io
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SALT = "daemon-bench"
CONFIGS = {
    "w1": ["--spacing", "1"],  # the W1 job: 1 mm isotropic, float32 (the default dtype)
    "inference": ["--spacing", "1.5", "--window", "40,400", "--normalize", "minmax", "--dtype", "float16"],
}
STORESCU = "/usr/bin/storescu"
STORESCP = "/usr/bin/storescp"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------- helpers

def percentile(values, q):
    """Nearest-rank percentile (with 20 values, p99 is the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(values):
    if not values:
        return None
    return {"n": len(values), "p50": statistics.median(values), "p99": percentile(values, 99),
            "mean": statistics.fmean(values), "min": min(values), "max": max(values)}


def slope_per_minute(samples, skip_seconds):
    """Least-squares slope (units per minute) of (t, value) pairs with t >= skip_seconds."""
    points = [(t, v) for t, v in samples if t >= skip_seconds]
    if len(points) < 3:
        return None
    mean_t = statistics.fmean(t for t, _ in points)
    mean_v = statistics.fmean(v for _, v in points)
    denominator = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / denominator * 60 if denominator else None


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid, key="VmRSS:"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    return 0.0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def synth(hf, folder, size, slices, seed):
    """A synthetic series, made once (a .complete marker says it is finished)."""
    if os.path.exists(folder + ".complete"):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run([hf, "synth", "-o", folder, "--size", str(size), "--slices", str(slices), "--seed", str(seed)],
                   check=True, stdout=subprocess.DEVNULL)
    open(folder + ".complete", "w").close()
    return folder


def files_of(folder):
    return sorted(os.path.join(folder, name) for name in os.listdir(folder))


def tar_bytes(folder):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in files_of(folder):
            archive.add(path, arcname=os.path.basename(path))
    return buffer.getvalue()


def manifest_lines(output):
    try:
        with open(os.path.join(output, "manifest.jsonl")) as lines:
            return [line for line in lines if line.strip()]
    except FileNotFoundError:
        return []


class Serve:
    """`hounsfield serve` in the background; its log (stderr) in a file, the ports from its ready line."""

    def __init__(self, hf, args, log_path, env=None, timeout=180):
        self.log_path = log_path
        self.logfile = open(log_path, "w")
        self.proc = subprocess.Popen([hf, "serve", *args, "--log-level", "info"], stdout=self.logfile,
                                     stderr=subprocess.STDOUT, env=env)
        self.http_port = self.dicom_port = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(log_path, errors="replace") as text:
                for line in text:
                    if re.search(r"\bready\b", line) and ("http=" in line or "dicom=" in line or "output=" in line):
                        found = re.search(r"http=\"?[\d.]+:(\d+)", line)
                        self.http_port = int(found.group(1)) if found else None
                        found = re.search(r"dicom=\"?[\d.]+:(\d+)", line)
                        self.dicom_port = int(found.group(1)) if found else None
                        self.ready_line = line.strip()
                        return
            if self.proc.poll() is not None:
                raise SystemExit(f"hounsfield serve exited with {self.proc.returncode} before ready; see {log_path}")
            time.sleep(0.05)
        self.stop()
        raise SystemExit(f"hounsfield serve was not ready within {timeout} s; see {log_path}")

    @property
    def pid(self):
        return self.proc.pid

    def metrics(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
        connection.close()
        return text

    def stop(self, timeout=120):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()
        return self.proc.returncode


def parse_server_timing(header):
    parts = {}
    for item in (header or "").split(","):
        found = re.match(r"\s*([\w-]+)\s*;\s*dur=([\d.]+)", item)
        if found:
            parts[found.group(1)] = float(found.group(2)) / 1000
    return parts


def post_study(port, body, content_type="application/x-tar"):
    """One POST /v1/studies on a new connection: status, total and time-to-headers seconds, Server-Timing parts."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    started = time.perf_counter()
    connection.request("POST", "/v1/studies", body=body,
                       headers={"Content-Type": content_type, "Content-Length": str(len(body))})
    response = connection.getresponse()
    headers_at = time.perf_counter()
    payload = response.read()
    finished = time.perf_counter()
    connection.close()
    return {"status": response.status, "seconds": finished - started, "to_headers_s": headers_at - started,
            "response_bytes": len(payload), "timing": parse_server_timing(response.getheader("Server-Timing")),
            "volumes": response.getheader("Hounsfield-Volumes")}


def metric_lines(text, name):
    return [line for line in text.splitlines() if line.startswith(name)]


def metric_value(lines, suffix):
    for line in lines:
        head, _, value = line.rpartition(" ")
        if head.split("{")[0].endswith(suffix):
            return float(value)
    return None


# ---------------------------------------------------------------------------------------------------------- http

def http_section(hf, work, args, inputs):
    folder = inputs["ct512"]
    body = tar_bytes(folder)
    log(f"http: tar of {len(files_of(folder))} files, {len(body) / 1e6:.0f} MB")
    n_one, n_two, warmups = (6, 3, 1) if args.quick else (20, 10, 2)
    result = {"input": {"folder": folder, "size": f"{args.size}×{args.size}×{args.slices}", "tar_bytes": len(body)},
              "requests": {"one_client": n_one, "two_clients_each": n_two, "warmups": warmups},
              "note": "p99 is nearest-rank: with 20 requests it is the slowest one (the max)", "configs": {}}
    for name, flags in CONFIGS.items():
        entry = {"flags": flags}
        for clients in (1, 2):
            output = os.path.join(work, f"http-{name}-{clients}")
            shutil.rmtree(output, ignore_errors=True)
            os.makedirs(output)
            serve_args = ["--output", os.path.join(output, "out"), "--http-port", "0", "--http-host", "127.0.0.1",
                          "--salt", SALT, *flags]
            if clients == 2:
                config = os.path.join(output, "serve.yaml")
                with open(config, "w") as file:
                    file.write("serve:\n  http:\n    concurrent_studies: 2\n")
                serve_args += ["--config", config]
            daemon = Serve(hf, serve_args, os.path.join(output, "serve.log"))
            try:
                for _ in range(warmups * clients):
                    warm = post_study(daemon.http_port, body)
                    if warm["status"] != 200:
                        raise SystemExit(f"warm-up answered {warm['status']}; see {daemon.log_path}")
                per_client = n_one if clients == 1 else n_two
                results = [[] for _ in range(clients)]
                cpu_before, started = cpu_seconds(daemon.pid), time.perf_counter()

                def client(index):
                    for _ in range(per_client):
                        results[index].append(post_study(daemon.http_port, body))

                threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                wall = time.perf_counter() - started
                cpu = cpu_seconds(daemon.pid) - cpu_before
                peak = rss_mb(daemon.pid, "VmHWM:")
                metrics = daemon.metrics()
            finally:
                daemon.stop()
            answers = [answer for chunk in results for answer in chunk]
            statuses = sorted({answer["status"] for answer in answers})
            parts = {key: summary([answer["timing"].get(key, 0.0) for answer in answers])
                     for key in ("upload", "parse", "process", "encode")}
            server = [sum(answer["timing"].values()) for answer in answers]
            entry[f"clients_{clients}"] = {
                "statuses": statuses, "latency_s": summary([answer["seconds"] for answer in answers]),
                "to_headers_s": summary([answer["to_headers_s"] for answer in answers]),
                "server_timing_s": parts, "server_timing_total_s": summary(server),
                "response_download_s": summary([a["seconds"] - a["to_headers_s"] for a in answers]),
                "outside_server_timing_s": summary([a["to_headers_s"] - s for a, s in zip(answers, server)]),
                "response_bytes": answers[0]["response_bytes"], "wall_s": wall,
                "studies_per_s": len(answers) / wall, "daemon_cpu_s_per_study": cpu / len(answers),
                "daemon_peak_rss_mb": peak,
                "http_request_metrics": metric_lines(metrics, "hounsfield_http"),
                "every_request": answers}
            log(f"http {name} clients={clients}: p50 {entry[f'clients_{clients}']['latency_s']['p50']:.3f} s, "
                f"p99 {entry[f'clients_{clients}']['latency_s']['p99']:.3f} s, statuses {statuses}")
        runs = []
        for index in range(args.run_repeats):
            output = os.path.join(work, f"run-{name}")
            shutil.rmtree(output, ignore_errors=True)
            subprocess.run(["sync"])
            started = time.perf_counter()
            done = subprocess.run([hf, "run", folder, "--output", output, "--salt", SALT, *flags],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            runs.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"hounsfield run exited with {done.returncode}: {done.stderr[-2000:]}")
        entry["hounsfield_run_s"] = {"runs": runs, "median": statistics.median(runs),
                                     "note": "process wall time: start-up, discovery, decode, transforms, "
                                             "HDF5 shard written with the default compression and fsynced"}
        entry["daemon_p50_over_run_median"] = entry["clients_1"]["latency_s"]["p50"] / statistics.median(runs)
        log(f"hounsfield run {name}: {', '.join(f'{r:.2f}' for r in runs)} s")
        result["configs"][name] = entry
    return result


# ---------------------------------------------------------------------------------------------------------- cstore

def storescu(port, called, files_or_folder, env, log_path=None):
    command = [STORESCU, "-aet", "BENCH", "-aec", called]
    if isinstance(files_or_folder, str):  # a folder: +sd scans it
        command += ["+sd", "127.0.0.1", str(port), files_or_folder]
    else:
        command += ["127.0.0.1", str(port), *files_or_folder]
    out = open(log_path, "a") if log_path else subprocess.DEVNULL
    return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StoreSCP:
    """DCMTK's storescp writing every instance to a folder (--fork: one child per association, as ours takes
    associations in parallel)."""

    def __init__(self, folder, env, log_path):
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        self.port = free_port()
        self.logfile = open(log_path, "a")
        self.proc = subprocess.Popen([STORESCP, "--fork", "-od", folder, str(self.port)], stdout=self.logfile,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        import socket
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise SystemExit("storescp did not listen")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.logfile.close()


def send_all(port, called, sources, env, log_path):
    """storescu processes for every source at once; seconds until the last exits."""
    started = time.perf_counter()
    procs = [storescu(port, called, source, env, log_path) for source in sources]
    codes = [proc.wait() for proc in procs]
    finished = time.perf_counter()
    if any(codes):
        raise SystemExit(f"storescu exited with {codes}; see {log_path}")
    return started, finished


def with_env(nodelay):
    env = dict(os.environ)
    env.pop("TCP_NODELAY", None)
    if nodelay is not None:
        env["TCP_NODELAY"] = nodelay
    return env


def ours_round(hf, work, tag, sources, env, quiet, n_series, config_flags, sender_env=None):
    """A fresh daemon (fresh spool and output), the sources sent at once, then waits for the series in the
    manifest. Returns the send seconds and the times from storescu's exit to each manifest line."""
    base = os.path.join(work, "cstore", tag)
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    output = os.path.join(base, "out")
    daemon = Serve(hf, ["--output", output, "--spool", os.path.join(base, "spool"), "--dicom-port", "0",
                        "--dicom-host", "127.0.0.1", "--http-port", "0", "--http-host", "127.0.0.1",
                        "--quiet-seconds", str(quiet), "--salt", SALT, *config_flags],
                   os.path.join(base, "serve.log"), env=env)
    try:
        subprocess.run(["sync"])
        started, finished = send_all(daemon.dicom_port, "HOUNSFIELD", sources, sender_env or env,
                                     os.path.join(base, "storescu.log"))
        arrivals, deadline = [], time.perf_counter() + 300
        while len(arrivals) < n_series and time.perf_counter() < deadline:
            count = len(manifest_lines(output))
            while len(arrivals) < count:
                arrivals.append(time.perf_counter() - finished)
            time.sleep(0.01)
        metrics = daemon.metrics()
    finally:
        daemon.stop()
    lines = metric_lines(metrics, "hounsfield_last_instance_to_shard_seconds")
    shutil.rmtree(os.path.join(base, "spool"), ignore_errors=True)
    return {"send_s": finished - started, "to_manifest_s": arrivals,
            "metric_lines": lines, "metric_sum_s": metric_value(lines, "_sum"),
            "metric_count": metric_value(lines, "_count"),
            "received_total": metric_lines(metrics, "hounsfield_instances_received_total")}


def storescp_round(work, tag, sources, env):
    base = os.path.join(work, "cstore", tag)
    os.makedirs(base, exist_ok=True)
    receiver = StoreSCP(os.path.join(base, "od"), env, os.path.join(base, "storescp.log"))
    try:
        subprocess.run(["sync"])
        started, finished = send_all(receiver.port, "ANY-SCP", sources, env, os.path.join(base, "storescu.log"))
    finally:
        receiver.stop()
    shutil.rmtree(os.path.join(base, "od"), ignore_errors=True)
    return {"send_s": finished - started}


def cstore_section(hf, work, args, inputs):
    series = inputs["cstore"]
    per_series = len(files_of(series[0]))
    quiet = 2.0
    flags = CONFIGS["w1"]
    result = {"instances_per_series": per_series, "slice": f"{args.size}×{args.size} int16, explicit VR little endian",
              "quiet_seconds": quiet, "processing_flags": flags,
              "storescp": "storescp --fork -od DIR PORT (no fsync); ours syncs every instance before the response"}
    # TCP_NODELAY probe: the first 60 instances of one series, sender and receiver with the same environment.
    probe_files = files_of(series[0])[:60]
    probe = {}
    for setting in (None, "1"):
        env = with_env(setting)
        label = f"TCP_NODELAY={setting}" if setting else "TCP_NODELAY unset"
        theirs = storescp_round(work, f"probe-storescp-{setting}", [probe_files], env)["send_s"]
        ours = ours_round(hf, work, f"probe-ours-{setting}", [probe_files], env, quiet, 0, flags)["send_s"]
        probe[label] = {"storescp_ms_per_instance": theirs / len(probe_files) * 1000,
                        "ours_ms_per_instance": ours / len(probe_files) * 1000}
        log(f"probe {label}: storescp {theirs / len(probe_files) * 1000:.1f} ms/instance, "
            f"ours {ours / len(probe_files) * 1000:.1f} ms/instance")
    # Which side matters: the setting on the sender only, and on the receiver only.
    mixed = {}
    for sender, receiver in (("1", None), (None, "1")):
        sent = ours_round(hf, work, f"probe-ours-mixed-{sender}-{receiver}", [probe_files], with_env(receiver), quiet,
                          0, flags, sender_env=with_env(sender))["send_s"]
        mixed[f"sender TCP_NODELAY={sender or 'unset'}, ours TCP_NODELAY={receiver or 'unset'}"] = \
            sent / len(probe_files) * 1000
    for sender, receiver in (("1", None), (None, "1")):
        receiver_env, sender_env = with_env(receiver), with_env(sender)
        base = os.path.join(work, "cstore", f"probe-mixed-{sender}-{receiver}")
        os.makedirs(base, exist_ok=True)
        scp = StoreSCP(os.path.join(base, "od"), receiver_env, os.path.join(base, "storescp.log"))
        try:
            started, finished = send_all(scp.port, "ANY-SCP", [probe_files], sender_env,
                                         os.path.join(base, "storescu.log"))
        finally:
            scp.stop()
        shutil.rmtree(os.path.join(base, "od"), ignore_errors=True)
        mixed[f"sender TCP_NODELAY={sender or 'unset'}, storescp TCP_NODELAY={receiver or 'unset'}"] = \
            (finished - started) / len(probe_files) * 1000
    probe["one_side_only_ms_per_instance"] = mixed
    best = min((None, "1"), key=lambda s: probe[f"TCP_NODELAY={s}" if s else "TCP_NODELAY unset"]
               ["storescp_ms_per_instance"] + probe[f"TCP_NODELAY={s}" if s else "TCP_NODELAY unset"]
               ["ours_ms_per_instance"])
    result["nodelay_probe"] = {"instances": len(probe_files), "results": probe,
                               "chosen": f"TCP_NODELAY={best}" if best else "TCP_NODELAY unset"}
    log(f"cstore: using {result['nodelay_probe']['chosen']} for senders and both receivers")
    env = with_env(best)
    rounds = []
    for index in range(args.cstore_rounds):
        entry = {}
        order = ("ours", "storescp") if index % 2 == 0 else ("storescp", "ours")
        for senders in (1, 4):
            sources = [series[i] for i in range(senders)]
            for receiver in order:
                tag = f"r{index}-{receiver}-{senders}"
                if receiver == "ours":
                    measured = ours_round(hf, work, tag, sources, env, quiet, senders, flags)
                else:
                    measured = storescp_round(work, tag, sources, env)
                measured["instances_per_s"] = senders * per_series / measured["send_s"]
                entry[f"{receiver}_{senders}"] = measured
                log(f"cstore round {index} {receiver} senders={senders}: {measured['instances_per_s']:.0f} "
                    f"instances/s ({measured['send_s']:.2f} s)"
                    + (f", to manifest {', '.join(f'{t:.2f}' for t in measured['to_manifest_s'])} s"
                       if receiver == "ours" else ""))
        rounds.append(entry)
    result["rounds"] = rounds
    table = {}
    for senders in (1, 4):
        ours = [r[f"ours_{senders}"]["instances_per_s"] for r in rounds]
        theirs = [r[f"storescp_{senders}"]["instances_per_s"] for r in rounds]
        table[f"senders_{senders}"] = {
            "ours_instances_per_s": statistics.median(ours), "storescp_instances_per_s": statistics.median(theirs),
            "ratio_ours_over_storescp_per_round": [o / t for o, t in zip(ours, theirs)],
            "ratio_ours_over_storescp_median": statistics.median(o / t for o, t in zip(ours, theirs))}
    result["ingest"] = table
    one = [r["ours_1"]["to_manifest_s"][0] for r in rounds if r["ours_1"]["to_manifest_s"]]
    four = [max(r["ours_4"]["to_manifest_s"]) for r in rounds if len(r["ours_4"]["to_manifest_s"]) == 4]
    result["last_instance_to_shard"] = {
        "one_series_s": summary(one), "one_series_minus_quiet_s": summary([t - quiet for t in one]),
        "four_series_last_s": summary(four),
        "metric_mean_one_series_s": statistics.median(
            r["ours_1"]["metric_sum_s"] / r["ours_1"]["metric_count"] for r in rounds
            if r["ours_1"]["metric_count"]) if any(r["ours_1"]["metric_count"] for r in rounds) else None,
        "note": "from storescu's exit (its last instance acknowledged, then the release) to the manifest line, "
                "polled every 10 ms; four series: the last of the four lines"}
    return result


# ---------------------------------------------------------------------------------------------------------- soak

def soak_section(hf, work, args, inputs, env):
    duration = args.soak_seconds
    base = os.path.join(work, "soak")
    shutil.rmtree(base, ignore_errors=True)
    output, spool, watch, staging = (os.path.join(base, name) for name in ("out", "spool", "watch", "staging"))
    for folder in (watch, staging):
        os.makedirs(folder)
    daemon = Serve(hf, ["--output", output, "--spool", spool, "--dicom-port", "0", "--dicom-host", "127.0.0.1",
                        "--http-port", "0", "--http-host", "127.0.0.1", "--watch", watch, "--stable-seconds", "3",
                        "--quiet-seconds", "2", "--salt", SALT, *CONFIGS["w1"]],
                   os.path.join(base, "serve.log"), env=env)
    body = tar_bytes(inputs["soak_http"])
    stop = threading.Event()
    started = time.monotonic()
    end = started + duration
    counts = {"dicom_series_sent": 0, "dicom_failures": 0, "http_posts": 0, "http_statuses": {}, "watch_drops": 0}
    http_latencies, samples = [], []
    lock = threading.Lock()

    def dicom_loop():  # one new series (new UIDs) every 5 s, at most the pool's size
        for folder in inputs["soak_dicom"]:
            if stop.is_set() or time.monotonic() >= end:
                return
            proc = storescu(daemon.dicom_port, "HOUNSFIELD", folder, env, os.path.join(base, "storescu.log"))
            code = proc.wait(timeout=120)
            with lock:
                counts["dicom_series_sent" if code == 0 else "dicom_failures"] += 1
            stop.wait(5)

    def http_loop():  # a 64×64×40 study every 2 s, bounded by count and time
        for _ in range(duration // 2 + 1):
            if stop.is_set() or time.monotonic() >= end:
                return
            answer = post_study(daemon.http_port, body)
            with lock:
                counts["http_posts"] += 1
                counts["http_statuses"][str(answer["status"])] = counts["http_statuses"].get(str(answer["status"]), 0) + 1
                http_latencies.append(answer["seconds"])
            stop.wait(2)

    def watch_loop():  # a study folder (new UIDs) every 30 s, copied beside the watch folder then renamed into it
        for index, folder in enumerate(inputs["soak_watch"]):
            if stop.wait(30 if index else 10) or time.monotonic() >= end:
                return
            staged = os.path.join(staging, f"drop{index}")
            shutil.copytree(folder, staged)
            os.rename(staged, os.path.join(watch, f"drop{index}"))
            with lock:
                counts["watch_drops"] += 1

    def sample():
        samples.append({"t": time.monotonic() - started, "rss_mb": rss_mb(daemon.pid), "fds": open_fds(daemon.pid),
                        "manifest_lines": len(manifest_lines(output))})

    threads = [threading.Thread(target=loop) for loop in (dicom_loop, http_loop, watch_loop)]
    try:
        sample()
        for thread in threads:
            thread.start()
        while time.monotonic() < end:
            time.sleep(min(5, max(0, end - time.monotonic())))
            sample()
            if int(samples[-1]["t"]) % 60 < 5:
                log(f"soak t={samples[-1]['t']:.0f}s rss={samples[-1]['rss_mb']:.0f} MB fds={samples[-1]['fds']} "
                    f"manifest={samples[-1]['manifest_lines']}")
        stop.set()
        for thread in threads:
            thread.join(timeout=180)
        expected = counts["dicom_series_sent"] + counts["watch_drops"]
        drain_deadline = time.monotonic() + 120
        while len(manifest_lines(output)) < expected and time.monotonic() < drain_deadline:
            time.sleep(0.5)
        sample()
        metrics = daemon.metrics()
    finally:
        stop.set()
        code = daemon.stop()
    steady = [s for s in samples if s["t"] >= 60]
    result = {"seconds": duration, "sample_every_s": 5, "warm_up_skipped_s": 60, "counts": counts,
              "manifest_lines_at_end": samples[-1]["manifest_lines"], "manifest_lines_expected": expected,
              "http_latency_s": summary(http_latencies), "exit_status": code,
              "traffic": "storescu: a new 64×64×40 series every 5 s (no repeats; a pool of distinct seeds); HTTP: "
                         "a 64×64×40 tar every 2 s; watch folder: a new 64×64×40 study every 30 s; all processed "
                         "with --spacing 1",
              "items_done": metric_lines(metrics, "hounsfield_items_done_total"),
              "samples": samples}
    for key in ("rss_mb", "fds"):
        values = [s[key] for s in samples]
        result[key] = {"start": values[0], "end": values[-1], "max": max(values),
                       "after_warm_up_start": steady[0][key] if steady else None,
                       "slope_per_minute_after_warm_up": slope_per_minute([(s["t"], s[key]) for s in samples], 60)}
    log(f"soak: rss {result['rss_mb']}, fds {result['fds']}")
    return result


# ---------------------------------------------------------------------------------------------------------- main

def machine():
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        memory = int(meminfo.readline().split()[1]) / 1024 / 1024
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"cores": os.cpu_count(), "cpu": model, "memory_gib": round(memory, 1), "kernel": os.uname().release,
            "commit": commit, "dcmtk": subprocess.run([STORESCU, "--version"], capture_output=True,
                                                      text=True).stdout.splitlines()[0]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="http,cstore,soak")
    parser.add_argument("--work", default=os.environ.get("HOUNSFIELD_DAEMON_BENCH_WORK", "/tmp/hounsfield-daemon-bench"))
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/hounsfield"))
    parser.add_argument("--soak-seconds", type=int)
    parser.add_argument("--size", type=int, default=512, help="rows and columns of the large series (smoke tests)")
    parser.add_argument("--slices", type=int, default=300, help="slices of the large series (smoke tests)")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "results.json"))
    args = parser.parse_args()
    args.soak_seconds = args.soak_seconds or (120 if args.quick else 600)
    args.run_repeats = 1 if args.quick else 3
    args.cstore_rounds = 1 if args.quick else 3
    sections = set(args.only.split(","))
    hf = os.path.abspath(args.binary)
    if not os.access(hf, os.X_OK):
        sys.exit(f"no hounsfield at {hf}: swift build -c release --product hounsfield")
    work = args.work
    inputs_dir = os.path.join(work, "inputs")
    os.makedirs(inputs_dir, exist_ok=True)
    log("making inputs (once; reused from " + inputs_dir + ")")
    inputs = {}
    if sections & {"http", "cstore"}:
        inputs["ct512"] = synth(hf, os.path.join(inputs_dir, f"ct{args.size}x{args.slices}"), args.size, args.slices, 1)
    if "cstore" in sections:
        inputs["cstore"] = [synth(hf, os.path.join(inputs_dir, f"ct{args.size}x{args.slices}-seed{seed}"), args.size,
                                  args.slices, seed)
                            for seed in (11, 12, 13, 14)]
    if "soak" in sections:
        pool = args.soak_seconds // 5 + 2
        inputs["soak_dicom"] = [synth(hf, os.path.join(inputs_dir, "soak", f"dicom-{seed}"), 64, 40, seed)
                                for seed in range(1000, 1000 + pool)]
        inputs["soak_watch"] = [synth(hf, os.path.join(inputs_dir, "soak", f"watch-{seed}"), 64, 40, seed)
                                for seed in range(3000, 3000 + args.soak_seconds // 30 + 2)]
        inputs["soak_http"] = synth(hf, os.path.join(inputs_dir, "soak", "http"), 64, 40, 5000)
    report = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(), "binary": hf, "quick": args.quick, "work": work,
              "load_average_at_start": os.getloadavg()}
    nodelay_env = None
    if "http" in sections:
        report["http"] = http_section(hf, work, args, inputs)
    if "cstore" in sections:
        report["cstore"] = cstore_section(hf, work, args, inputs)
        chosen = report["cstore"]["nodelay_probe"]["chosen"]
        nodelay_env = "1" if chosen == "TCP_NODELAY=1" else None
    if "soak" in sections:
        report["soak"] = soak_section(hf, work, args, inputs, with_env(nodelay_env))
    report["load_average_at_end"] = os.getloadavg()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as file:
        json.dump(report, file, indent=2)
    log(f"wrote {args.out}")
    print_summary(report)


def print_summary(report):
    lines = [f"hounsfield serve benchmarks, {report['date']}, {report['machine']['cores']} cores "
             f"({report['machine']['cpu']}), load average {report['load_average_at_start'][0]:.2f} → "
             f"{report['load_average_at_end'][0]:.2f}"]
    if "http" in report:
        lines += ["", "| config | clients | p50 s | p99 s (=max) | mean s | upload | parse | process | encode | "
                      "download | studies/s | hounsfield run (median) |", "|" + "---|" * 12]
        for name, entry in report["http"]["configs"].items():
            for clients in (1, 2):
                e = entry[f"clients_{clients}"]
                t = e["server_timing_s"]
                lines.append(f"| {name} | {clients} | {e['latency_s']['p50']:.3f} | {e['latency_s']['p99']:.3f} | "
                             f"{e['latency_s']['mean']:.3f} | {t['upload']['p50']:.3f} | {t['parse']['p50']:.3f} | "
                             f"{t['process']['p50']:.3f} | {t['encode']['p50']:.3f} | "
                             f"{e['response_download_s']['p50']:.3f} | {e['studies_per_s']:.2f} | "
                             f"{entry['hounsfield_run_s']['median']:.2f} s |")
    if "cstore" in report:
        c = report["cstore"]
        lines += ["", f"C-STORE ({c['nodelay_probe']['chosen']}): " + json.dumps(c["nodelay_probe"]["results"])]
        for senders in (1, 4):
            row = c["ingest"][f"senders_{senders}"]
            lines.append(f"senders={senders}: ours {row['ours_instances_per_s']:.0f}/s, storescp "
                         f"{row['storescp_instances_per_s']:.0f}/s, ratio {row['ratio_ours_over_storescp_median']:.2f}")
        lines.append("last instance → manifest: " + json.dumps(c["last_instance_to_shard"]))
    if "soak" in report:
        s = report["soak"]
        lines += ["", f"soak {s['seconds']} s: rss {json.dumps(s['rss_mb'])}; fds {json.dumps(s['fds'])}; "
                      f"counts {json.dumps(s['counts'])}; manifest {s['manifest_lines_at_end']}/"
                      f"{s['manifest_lines_expected']}"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
