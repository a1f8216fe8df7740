"""perf profile of `hounsfield serve` answering POST /v1/studies (the 512×512×300 series that bench.py makes).

Usage: python3 Benchmarks/daemon/profile_http.py [w1|inference] [--requests 8] [--work DIR]
Starts the daemon with the configuration's flags, sends 2 warm-ups, records `perf record -F 499 -g -p PID` over the
requests, prints each request's time and Server-Timing, then the top symbols (self time). The data stays in
WORK/profile-CONFIG.data for `perf report -i …`.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("config", nargs="?", default="w1", choices=sorted(bench.CONFIGS))
parser.add_argument("--requests", type=int, default=8)
parser.add_argument("--work", default=os.environ.get("HOUNSFIELD_DAEMON_BENCH_WORK", "/tmp/hounsfield-daemon-bench"))
parser.add_argument("--binary", default=os.path.join(bench.ROOT, ".build/release/hounsfield"))
args = parser.parse_args()
folder = bench.synth(args.binary, os.path.join(args.work, "inputs", "ct512x300"), 512, 300, 1)
body = bench.tar_bytes(folder)
output = os.path.join(args.work, f"profile-{args.config}")
shutil.rmtree(output, ignore_errors=True)
os.makedirs(output)
daemon = bench.Serve(args.binary, ["--output", os.path.join(output, "out"), "--http-port", "0", "--http-host",
                                   "127.0.0.1", "--salt", bench.SALT, *bench.CONFIGS[args.config]],
                     os.path.join(output, "serve.log"))
data = os.path.join(args.work, f"profile-{args.config}.data")
try:
    for _ in range(2):
        bench.post_study(daemon.http_port, body)
    perf = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", str(daemon.pid), "-o", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    for _ in range(args.requests):
        answer = bench.post_study(daemon.http_port, body)
        print(f"{answer['seconds']:.3f} s", {key: round(value, 3) for key, value in answer["timing"].items()})
    perf.send_signal(signal.SIGINT)
    perf.wait()
finally:
    daemon.stop()
subprocess.run(f"perf report -i {data} --no-children --sort dso,symbol --stdio -g none 2>/dev/null "
               "| grep '%' | head -25", shell=True)
