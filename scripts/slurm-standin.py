"""Stand-ins for srun, scontrol and hounsfield, so that scripts/check-examples.py can run
Examples/slurm/hounsfield.sbatch on one machine and check what it does: the order in which it stops the workers and
the coordinator, when it requeues, which exit status it returns, the token file it makes.

    python3 slurm-standin.py srun|scontrol|hounsfield ARGUMENT...

Every stand-in appends one line per event to the file named by STANDIN_EVENTS. The fake coordinator listens on the
--listen address for real (the script waits for it), and the fake workers connect to it, so the address the script
gives them is checked too. STANDIN_COORDINATOR chooses the coordinator's behaviour:
  finish:N   wait for STANDIN_WORKERS workers, tell them to drain, exit N
  fail:N     exit N at once, before listening (a configuration error)
  serve      serve until SIGTERM, then exit 130
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time


def event(*words):
    line = " ".join(str(w) for w in words) + "\n"
    fd = os.open(os.environ["STANDIN_EVENTS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())  # one write with O_APPEND: lines from several processes do not interleave
    finally:
        os.close(fd)


def option(args, name):
    """The value of --name VALUE or --name=VALUE."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1:]
    return None


def srun(args):
    # Options come first and are all written --name=value in the script; the rest is the command.
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 1
    options, command = args[:i], args[i:]
    event("srun", *options)
    nodes = int(option(options, "--nodes"))
    names = os.environ["SLURM_JOB_NODELIST"].split(",")[:nodes]
    children = [subprocess.Popen(command, env={**os.environ, "STANDIN_HOST": n}) for n in names]

    def forward(number, _frame):
        event("srun", signal.Signals(number).name)
        for c in children:
            if c.poll() is None:
                c.send_signal(number)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(s, forward)
    sys.exit(max(c.wait() for c in children))


def scontrol(args):
    if args[:2] == ["show", "hostnames"]:
        print("\n".join(args[2].split(",")))
    elif args[:1] == ["requeue"]:
        event("scontrol", "requeue", args[1])
    else:
        sys.exit(f"scontrol stand-in: unexpected {args}")


def coordinator(args):
    event("coordinator", "start", *args)
    mask = os.umask(0)
    os.umask(mask)
    event("coordinator", "umask", oct(mask))  # what its shards and manifests would be created with
    event("coordinator", "salt", os.environ.get("HOUNSFIELD_SALT", "(none)"))  # a test salt: fine in a test log
    mode = os.environ.get("STANDIN_COORDINATOR", "serve")
    if mode.startswith("fail:"):
        sys.exit(int(mode.split(":")[1]))
    token_file = option(args, "--token-file")
    if token_file is None or os.stat(token_file).st_mode & 0o077:
        event("coordinator", "refused", "token file missing or readable by others")
        sys.exit(2)
    host, port = option(args, "--listen").rsplit(":", 1)
    server = socket.create_server((host, int(port)))
    connections = []
    lock = threading.Lock()

    def serve(connection):
        line = connection.makefile().readline()  # the script's readiness probe connects and closes: empty
        if line.startswith("hello "):
            event("coordinator", "hello", line.split()[1])
            with lock:
                connections.append(connection)

    def accept():
        while True:
            connection, _ = server.accept()
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    def stop(number, _frame):
        event("coordinator", signal.Signals(number).name)
        os._exit(130)

    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=accept, daemon=True).start()
    if mode.startswith("finish:"):
        expected = int(os.environ["STANDIN_WORKERS"])
        while True:
            with lock:
                if len(connections) >= expected:
                    break
            time.sleep(0.05)
        for c in connections:
            c.sendall(b"drain\n")
        event("coordinator", "drained")
        sys.exit(int(mode.split(":")[1]))
    while True:
        time.sleep(1)


def worker(args):
    # The real worker's default name: $HOUNSFIELD_WORKER_NAME, else the host name with '-' replaced by '_'.
    name = os.environ.get("HOUNSFIELD_WORKER_NAME") or os.environ["STANDIN_HOST"].replace("-", "_")
    event("worker", name, "start", *args)
    event("worker", name, "salt", "inherited" if "HOUNSFIELD_SALT" in os.environ else "(none)")

    def stop(number, _frame):
        event("worker", name, signal.Signals(number).name)
        os._exit(0)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(s, stop)
    host, port = option(args, "--coordinator").rsplit(":", 1)
    connection = socket.create_connection((host, int(port)), timeout=10)
    connection.settimeout(None)
    connection.sendall(f"hello {name}\n".encode())
    line = connection.makefile().readline()
    if line.strip() == "drain":
        event("worker", name, "drained")
        sys.exit(0)
    event("worker", name, "lost the coordinator")
    sys.exit(1)


if __name__ == "__main__":
    role, arguments = sys.argv[1], sys.argv[2:]
    if role == "srun":
        srun(arguments)
    elif role == "scontrol":
        scontrol(arguments)
    elif role == "hounsfield" and arguments[:1] == ["coordinator"]:
        coordinator(arguments[1:])
    elif role == "hounsfield" and arguments[:1] == ["worker"]:
        worker(arguments[1:])
    else:
        sys.exit(f"slurm-standin: unknown role {sys.argv[1:]}")
