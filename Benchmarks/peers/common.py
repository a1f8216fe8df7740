"""Helpers shared by the peer scripts (they run as `python peers/<script>.py`, so this folder is on sys.path)."""
import json
import os
import subprocess
import sys
import tempfile
import time


def median(values):
    """The median of a list of numbers (the middle one, or the mean of the two middle ones)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def measured(command, label, gnu_time):
    """Runs a command in its own process; returns (wall seconds, peak RSS in MB, stdout). Peak RSS comes from
    `/usr/bin/time -v` when `gnu_time` is its path, else from the child's own rusage (os.wait4). A failed command
    ends the comparison with its label and the end of its standard error."""
    print(f"  {label}: {' '.join(command)}", file=sys.stderr, flush=True)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        if gnu_time:
            status = subprocess.run([gnu_time, "-v"] + command, stdout=out, stderr=err).returncode
            peak_kb = None
        else:
            child = subprocess.Popen(command, stdout=out, stderr=err)
            _, wait_status, usage = os.wait4(child.pid, 0)
            status = os.waitstatus_to_exitcode(wait_status)
            peak_kb = usage.ru_maxrss  # KiB on Linux
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if status != 0:
        raise SystemExit(f"{label} failed ({status}):\n{stderr[-3000:]}")
    if gnu_time:
        peak_kb = next(int(line.rsplit(":", 1)[1]) for line in stderr.splitlines()
                       if "Maximum resident set size" in line)
    return seconds, peak_kb / 1024, stdout


def last_json(stdout):
    """The last line of a tool's standard output, parsed: every timing helper ends with one JSON line."""
    return json.loads(stdout.strip().splitlines()[-1])
