"""Checks the deployment examples without a cluster (scripts/check-examples.sh runs it; a few seconds).

- Every YAML file under Examples/ parses (yaml.safe_load_all).
- Examples/kubernetes: the objects are valid against Kubernetes' own schemas (kubernetes-validate, strict: an unknown
  or misspelt field fails), for the oldest version the README supports and the newest known; and they say what the
  README promises. The coordinator a Job of one pod (never a Deployment: it exits when the run is over), replaced
  only once ended, failed for good on exit 2 or 3, resumed after 130 or a disruption, without a liveness probe;
  its Service and PodDisruptionBudget selecting its pod and no worker, gRPC on 7171, --metrics on 9171 with scrape
  annotations; its journal on the ReadWriteOnce claim hounsfield-journal that no worker mounts. The workers an
  Indexed Job with a retry budget per index, preemption ignored, exit 2 failing the Job, a non-zero
  --stopped-exit-code ignored so that a stopped worker's slot runs again, no replacement beside a terminating pod,
  a valid worker name per index, no CPU limit. The token and the salt from the Secret, never in an argument; the
  same volumes at the same paths in every pod.
- Examples/slurm: the #SBATCH directives the README relies on, and hounsfield.sbatch run for real against stand-ins
  for srun, scontrol and hounsfield (scripts/slurm-standin.py): a finished run, a run with failed series, a
  configuration error, the time limit (USR1: workers stopped before the coordinator, then requeued), a
  cancellation (TERM: stopped, not requeued), and the salt (read from HOUNSFIELD_SALT_FILE into the coordinator's
  HOUNSFIELD_SALT and no worker's, never an argument; a missing file refused; an exported HOUNSFIELD_SALT passed on).
"""
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import yaml
except ImportError:
    sys.exit("check-examples: needs PyYAML in this Python (scripts/test.sh installs it into .venv-test; "
             "or: pip install pyyaml)")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "Examples"
KUBERNETES = EXAMPLES / "kubernetes"
SLURM = EXAMPLES / "slurm"
# The oldest Kubernetes where every Job field used is on by default (backoffLimitPerIndex and podReplacementPolicy:
# beta in 1.29), as the README says.
OLDEST_KUBERNETES = "1.29.0"

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def yaml_files():
    return sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".yml") and ".build" not in p.parts)


def parse_all():
    documents = {}
    for path in yaml_files():
        try:
            documents[path] = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as error:
            check(False, f"{path.relative_to(ROOT)}: not valid YAML: {error}")
    print(f"check-examples: {len(documents)} YAML files parse")
    return documents


# Kubernetes -----------------------------------------------------------------------------------------------------

def flags(arguments):
    """--name=value and --name value from a container's args, and the positional arguments."""
    named, positional, i = {}, [], 0
    while i < len(arguments):
        a = arguments[i]
        if a.startswith("--") and "=" in a:
            name, value = a[2:].split("=", 1)
            named[name] = value
        elif a.startswith("--"):
            value = arguments[i + 1] if i + 1 < len(arguments) and not arguments[i + 1].startswith("-") else ""
            named[a[2:]] = value
            i += 1 if value else 0
        else:
            positional.append(a)
        i += 1
    return named, positional


def env_entries(container):
    return {e["name"]: e for e in container.get("env", [])}


def secret_reference(entry):
    reference = (entry.get("valueFrom") or {}).get("secretKeyRef") or {}
    return reference.get("name"), reference.get("key")


def mounts_by_claim(pod_spec, container):
    """{claim name: (mount path, read-only)} for the container's PersistentVolumeClaim mounts."""
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"]
              for v in pod_spec.get("volumes", []) if "persistentVolumeClaim" in v}
    return {claims[m["name"]]: (m["mountPath"], bool(m.get("readOnly")))
            for m in container.get("volumeMounts", []) if m["name"] in claims}


def container_port(container, port):
    """A Service's or probe's port (number or name) as the container's port number."""
    if isinstance(port, int):
        return port
    return next((p["containerPort"] for p in container.get("ports", []) if p.get("name") == port), None)


def under(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def check_schemas(objects):
    try:
        import kubernetes_validate
    except ImportError:
        print("check-examples: kubernetes-validate is not installed here: Kubernetes schemas not checked "
              "(scripts/test.sh installs it into .venv-test)", file=sys.stderr)
        return
    for version in (OLDEST_KUBERNETES, kubernetes_validate.latest_version()):
        for path, document in objects:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                check(False, f"kubernetes-validate has no schema for Kubernetes {version} (pin a version that has)")
                return
            except kubernetes_validate.ValidationError as error:
                where = ".".join(str(p) for p in error.path)
                check(False, f"{path.name}: {document.get('kind')} {document['metadata']['name']}: "
                             f"not valid for Kubernetes {version} at {where}: {error.message}")
    print(f"check-examples: {len(objects)} Kubernetes objects valid for Kubernetes {OLDEST_KUBERNETES} "
          f"and {kubernetes_validate.latest_version()} (strict)")


def selects(selector, labels):
    """Whether a label selector ({key: value}) selects pods with these labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def failure_rules(job_spec, container, who):
    """The Job's podFailurePolicy rules, after checking what both Jobs need: Never, replacement only once ended,
    preemption ignored (first), exit 2 failing the Job."""
    rules = job_spec.get("podFailurePolicy", {}).get("rules", [])
    check(job_spec["template"]["spec"].get("restartPolicy") == "Never",
          f"{who}: restartPolicy Never (podFailurePolicy requires it)")
    check(job_spec.get("podReplacementPolicy") == "Failed",
          f"{who}: podReplacementPolicy Failed (never a new pod beside one still terminating)")
    disruption = [i for i, r in enumerate(rules) if r.get("action") == "Ignore" and any(
        c.get("type") == "DisruptionTarget" and c.get("status", "True") == "True"
        for c in r.get("onPodConditions", []))]
    check(disruption and disruption[0] == 0,
          f"{who}: the first podFailurePolicy rule must Ignore DisruptionTarget (whatever the exit code)")
    check(exit_rule(rules, "FailJob", 2, container),
          f"{who}: podFailurePolicy must FailJob on exit code 2 of {container}")
    return rules


def exit_rule(rules, action, code, container):
    """Whether the first rule matching `code` in `container` has this action (rules are taken in order)."""
    for rule in rules:
        codes = rule.get("onExitCodes")
        if codes is None or codes.get("containerName", container) != container:
            continue
        matches = code in codes.get("values", [])
        if (codes.get("operator") == "In") == matches:
            return rule.get("action") == action
    return False


def check_kubernetes(documents):
    objects = [(path, d) for path, ds in documents.items() if path.parent == KUBERNETES
               for d in ds if isinstance(d, dict) and "apiVersion" in d and d.get("kind") != "Kustomization"]
    def find(kind, name=None):
        found = [d for _, d in objects if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
        check(len(found) == 1, f"kubernetes: expected one {kind}{' ' + name if name else ''}, found {len(found)}")
        return found[0] if found else None

    check_schemas(objects)

    # kustomization.yaml: what it lists exists; the Secret and the volumes stay out of it.
    kustomization = documents.get(KUBERNETES / "kustomization.yaml", [None])[0]
    if check(isinstance(kustomization, dict), "kubernetes: kustomization.yaml is missing"):
        listed = list(kustomization.get("resources", []))
        listed += [f for g in kustomization.get("configMapGenerator", []) for f in g.get("files", [])]
        for name in listed:
            check((KUBERNETES / name).is_file(), f"kustomization.yaml: {name} does not exist")
        for name in ("secret.example.yaml", "volumes.yaml"):
            check(name not in listed, f"kustomization.yaml must not list {name}: `kubectl delete -k` would delete it")
        generated = {g["name"] for g in kustomization.get("configMapGenerator", [])}
    else:
        generated = set()

    # A coordinator ends when its run does: a Deployment (or any controller that restarts what exits) would start
    # it again after a finished run, for ever.
    for kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"):
        check(not [d for _, d in objects if d["kind"] == kind],
              f"kubernetes: no {kind}: the coordinator exits when the run is over, so it is a Job")
    secret = find("Secret")
    coordinator_job = find("Job", "hounsfield-coordinator")
    service = find("Service", "hounsfield-coordinator")
    budget = find("PodDisruptionBudget", "hounsfield-coordinator")
    job = find("Job", "hounsfield-workers")
    claims = {d["metadata"]["name"]: d for _, d in objects if d["kind"] == "PersistentVolumeClaim"}
    if None in (secret, coordinator_job, service, budget, job):
        return
    secret_keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
    secret_name = secret["metadata"]["name"]

    def check_secret_variable(container, who, variable, key, flag):
        """`variable` comes from the Secret's `key`, and the value is never in an argument (it would show in ps)."""
        name, got = secret_reference(env_entries(container).get(variable, {}))
        check(name == secret_name and got == key and key in secret_keys,
              f"{who}: {variable} must come from the Secret {secret_name}, key {key}; got {name}/{got}")
        named, _ = flags(container.get("args", []))
        check(flag not in named, f"{who}: --{flag} must not be an argument (it would show in ps); use {variable}")
        for entry in container.get("env", []):
            if "value" in entry:
                check(f"$({variable})" not in entry["value"], f"{who}: {entry['name']} copies {variable}")
        for argument in container.get("args", []) + container.get("command", []):
            check(f"$({variable})" not in argument, f"{who}: an argument holds {variable}")

    # The volumes.
    output, archive = claims.get("hounsfield-output"), claims.get("ct-archive")
    journal_claim = claims.get("hounsfield-journal")
    check(output is not None and output["spec"].get("accessModes") == ["ReadWriteMany"],
          "volumes: the PersistentVolumeClaim hounsfield-output must be ReadWriteMany")
    check(archive is not None and archive["spec"].get("accessModes") == ["ReadOnlyMany"],
          "volumes: the PersistentVolumeClaim ct-archive must be ReadOnlyMany")
    check(journal_claim is not None and journal_claim["spec"].get("accessModes") in
          (["ReadWriteOnce"], ["ReadWriteOncePod"]),
          "volumes: the PersistentVolumeClaim hounsfield-journal must be ReadWriteOnce (one node, one coordinator)")

    # The coordinator: a Job of one pod that is never run twice at once, ended for good by 2 and 3, resumed after 130.
    c = coordinator_job["spec"]
    c_pod = c["template"]["spec"]
    coordinator = c_pod["containers"][0]
    check(c.get("completions", 1) == 1 and c.get("parallelism", 1) == 1 and c.get("completionMode", "NonIndexed")
          == "NonIndexed", "coordinator: a Job of one pod (completions 1, parallelism 1)")
    check(isinstance(c.get("backoffLimit"), int) and c["backoffLimit"] >= 1,
          "coordinator: a backoffLimit (it resumes when started again)")
    c_rules = failure_rules(c, coordinator["name"], "coordinator")
    check(exit_rule(c_rules, "FailJob", 3, coordinator["name"]),
          "coordinator: podFailurePolicy must FailJob on exit code 3 (the run is over; starting again ends the same)")
    check(exit_rule(c_rules, "Ignore", 130, coordinator["name"]),
          "coordinator: podFailurePolicy must Ignore exit code 130 (stopped by SIGTERM; it resumes)")
    c_named, c_positional = flags(coordinator.get("args", []))
    check(coordinator.get("command") == ["hounsfield"] and c_positional[:1] == ["coordinator"],
          "coordinator: the container must run `hounsfield coordinator`")
    check(c_named.get("listen", "").endswith(":7171"), "coordinator: --listen on port 7171")
    check(c_named.get("metrics", "").endswith(":9171"), "coordinator: --metrics on port 9171")
    ports = {p["containerPort"] for p in coordinator.get("ports", [])}
    check({7171, 9171} <= ports, "coordinator: container ports 7171 and 9171")
    port = coordinator.get("readinessProbe", {}).get("tcpSocket", {}).get("port")
    check(container_port(coordinator, port) == 7171, "coordinator: readinessProbe must be a TCP socket on 7171")
    check("livenessProbe" not in coordinator and "startupProbe" not in coordinator,
          "coordinator: no liveness probe (a liveness failure stops it with SIGTERM, which drains every worker)")
    check(c_pod.get("terminationGracePeriodSeconds", 30) > 30,
          "coordinator: terminationGracePeriodSeconds over 30 (it waits up to 30 s for its workers to drain)")
    for toleration in c_pod.get("tolerations", []):
        if toleration.get("key") in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"):
            check(toleration.get("tolerationSeconds", 300) >= 300,
                  f"coordinator: no toleration of {toleration['key']} shorter than Kubernetes' 300 s")
    c_resources = coordinator.get("resources", {})
    check(c_resources.get("requests", {}).get("memory") == c_resources.get("limits", {}).get("memory") is not None,
          "coordinator: memory request = limit")
    check_secret_variable(coordinator, "coordinator", "HOUNSFIELD_TOKEN", "token", "token")
    check_secret_variable(coordinator, "coordinator", "HOUNSFIELD_SALT", "salt", "salt")
    for entry in coordinator.get("env", []):
        name, key = secret_reference(entry)
        if name is not None:
            check(name == secret_name and key in secret_keys, f"coordinator: {entry['name']}: no key {key} in {name}")
    for volume in c_pod.get("volumes", []):
        if "configMap" in volume:
            check(volume["configMap"]["name"] in generated,
                  f"coordinator: ConfigMap {volume['configMap']['name']} is not made by kustomization.yaml")
    config = c_named.get("config")
    if config is not None:
        mounted = [m["mountPath"] for m in coordinator.get("volumeMounts", [])]
        check(any(under(config, m) for m in mounted), f"coordinator: --config {config} is in no mounted volume")

    # The Service and the disruption budget select the coordinator's pod, and no worker.
    labels = c["template"]["metadata"].get("labels", {})
    w_labels = job["spec"]["template"]["metadata"].get("labels", {})
    selector = service["spec"].get("selector", {})
    check(selects(selector, labels), "coordinator Service: its selector does not match the coordinator Job's pods")
    check(not selects(selector, w_labels), "coordinator Service: its selector matches the workers' pods too")
    for port in service["spec"]["ports"]:
        check(container_port(coordinator, port.get("targetPort", port["port"])) == port["port"],
              f"coordinator Service: port {port['port']} does not reach the container's port {port['port']}")
    check({p["port"] for p in service["spec"]["ports"]} == {7171, 9171}, "coordinator Service: ports 7171 and 9171")
    annotations = service["metadata"].get("annotations", {})
    check(annotations.get("prometheus.io/scrape") == "true" and annotations.get("prometheus.io/port") == "9171"
          and annotations.get("prometheus.io/path") == "/metrics",
          "coordinator Service: Prometheus scrape annotations for :9171/metrics")
    b = budget["spec"]
    b_selector = b.get("selector", {}).get("matchLabels", {})
    check(b.get("minAvailable") == 1 and "maxUnavailable" not in b
          and not b.get("selector", {}).get("matchExpressions"),
          "coordinator PodDisruptionBudget: minAvailable 1 (a Job's pods allow no other form)")
    check(selects(b_selector, labels) and not selects(b_selector, w_labels),
          "coordinator PodDisruptionBudget: must select the coordinator's pod and no worker")

    # The workers.
    j = job["spec"]
    completions = j.get("completions")
    w_pod = j["template"]["spec"]
    worker = w_pod["containers"][0]
    check(j.get("completionMode") == "Indexed", "workers: completionMode Indexed")
    check(isinstance(completions, int) and completions >= 1 and j.get("parallelism") == completions,
          "workers: completions = parallelism (only then can an Indexed Job be scaled)")
    check(isinstance(j.get("backoffLimitPerIndex"), int) and j["backoffLimitPerIndex"] >= 1,
          "workers: backoffLimitPerIndex (retries per worker slot)")
    check(isinstance(j.get("maxFailedIndexes"), int) and j["maxFailedIndexes"] <= (completions or 0),
          "workers: maxFailedIndexes, at most completions")
    w_rules = failure_rules(j, worker["name"], "workers")
    w_named, w_positional = flags(worker.get("args", []))
    stopped = w_named.get("stopped-exit-code", "0")
    if check(stopped.isdigit() and int(stopped) not in (0, 2, 5, 6) and int(stopped) < 256,
             f"workers: --stopped-exit-code must be set, and not 0 (a completed slot), 2, 5 or 6: got {stopped}"):
        check(exit_rule(w_rules, "Ignore", int(stopped), worker["name"]),
              f"workers: podFailurePolicy must Ignore the --stopped-exit-code {stopped} (the slot runs again)")
    check(not exit_rule(w_rules, "Ignore", 5, worker["name"]),
          "workers: exit code 5 (the coordinator unreachable for 10 minutes) must count against the slot's retries")
    check(exit_rule(w_rules, "FailJob", 6, worker["name"]),
          "workers: exit code 6 (the token rejected) must fail the Job at once: every retry would be rejected too")
    check(w_pod.get("terminationGracePeriodSeconds", 30) >= 150,
          "workers: terminationGracePeriodSeconds of at least 150 (a worker finishes its series on SIGTERM)")
    check(re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", f"{job['metadata']['name']}-{(completions or 1) - 1}")
          is not None and len(job["metadata"]["name"]) + 1 + len(str(completions)) <= 63,
          "workers: the Job's name and highest index must form a DNS label (the pods' host names)")
    check(worker.get("command") == ["hounsfield"] and w_positional[:1] == ["worker"],
          "workers: the container must run `hounsfield worker`")
    service_port = next((p["port"] for p in service["spec"]["ports"] if p["port"] == 7171), None)
    check(w_named.get("coordinator") == f"{service['metadata']['name']}:{service_port}",
          "workers: --coordinator must name the coordinator's Service and port 7171")
    env = worker.get("env", [])
    names = [e["name"] for e in env]
    index = next((e for e in env if e["name"] == "JOB_COMPLETION_INDEX"), None)
    name_entry = next((e for e in env if e["name"] == "HOUNSFIELD_WORKER_NAME"), None)
    field = ((index or {}).get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath", "")
    check("batch.kubernetes.io/job-completion-index" in field,
          "workers: JOB_COMPLETION_INDEX must be defined from the pod's completion index")
    if check(name_entry is not None and "value" in name_entry, "workers: HOUNSFIELD_WORKER_NAME must be set"):
        value = name_entry["value"]
        check("$(JOB_COMPLETION_INDEX)" in value and index is not None
              and names.index("JOB_COMPLETION_INDEX") < names.index("HOUNSFIELD_WORKER_NAME"),
              "workers: HOUNSFIELD_WORKER_NAME must use $(JOB_COMPLETION_INDEX), defined before it")
        for i in (0, (completions or 1) - 1):
            concrete = value.replace("$(JOB_COMPLETION_INDEX)", str(i))
            check(re.fullmatch(r"[A-Za-z0-9_.]+", concrete) is not None,
                  f"workers: worker name {concrete!r} has characters other than letters, digits, '_' and '.'")
    check_secret_variable(worker, "workers", "HOUNSFIELD_TOKEN", "token", "token")
    w_resources = worker.get("resources", {})
    for resource in ("cpu", "memory"):
        check(resource in w_resources.get("requests", {}), f"workers: resources.requests.{resource}")
    check(w_resources.get("limits", {}).get("memory") == w_resources.get("requests", {}).get("memory"),
          "workers: memory limit = request")
    check("cpu" not in w_resources.get("limits", {}),
          "workers: no CPU limit (a worker runs a thread per core of the node it sees; a quota throttles them)")
    check(worker.get("image") == coordinator.get("image"), "workers: the coordinator's image (one version for both)")

    # The same volumes at the same paths everywhere, since the coordinator hands out paths; the journal the
    # coordinator's alone.
    c_mounts, w_mounts = mounts_by_claim(c_pod, coordinator), mounts_by_claim(w_pod, worker)
    for claim in ("ct-archive", "hounsfield-output"):
        check(claim in c_mounts and claim in w_mounts and c_mounts[claim][0] == w_mounts[claim][0],
              f"{claim} must be mounted at the same path in the coordinator and the workers")
    check(c_mounts.get("ct-archive", ("", False))[1] and w_mounts.get("ct-archive", ("", False))[1],
          "ct-archive must be mounted read-only")
    output_path = c_named.get("output", "")
    check(under(output_path, c_mounts.get("hounsfield-output", ("\0",))[0]),
          f"coordinator: --output {output_path} must be inside the hounsfield-output mount")
    inputs = c_positional[1:]
    check(inputs and all(under(i, c_mounts.get("ct-archive", ("\0",))[0]) for i in inputs),
          f"coordinator: the inputs {inputs} must be inside the ct-archive mount")
    journal = c_named.get("journal", "")
    journal_mount = c_mounts.get("hounsfield-journal", ("\0", True))
    check(under(journal, journal_mount[0]) and not journal_mount[1],
          f"coordinator: --journal {journal or '(default: in the output folder)'} must be on the hounsfield-journal "
          f"volume, mounted read-write (not the shared file system, not an emptyDir)")
    check("hounsfield-journal" not in w_mounts, "workers: must not mount hounsfield-journal (the coordinator's alone)")
    print("check-examples: Examples/kubernetes says what its README says")


def check_kustomize():
    """`kubectl kustomize` when kubectl is here: the kustomization builds, and the generated ConfigMap is wired."""
    try:
        built = subprocess.run(["kubectl", "kustomize", str(KUBERNETES)], capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        print("check-examples: no kubectl here: kustomization.yaml checked by reading it only", file=sys.stderr)
        return
    if not check(built.returncode == 0, f"kubectl kustomize Examples/kubernetes failed: {built.stderr.strip()}"):
        return
    rendered = [d for d in yaml.safe_load_all(built.stdout) if d]
    maps = {d["metadata"]["name"] for d in rendered if d["kind"] == "ConfigMap"}
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in rendered if d["kind"] != "ConfigMap")
    check(kinds == ["Job/hounsfield-coordinator", "Job/hounsfield-workers",
                    "PodDisruptionBudget/hounsfield-coordinator", "Service/hounsfield-coordinator"],
          f"kustomize: the run should be the two Jobs, the Service and the budget (and the ConfigMap), got {kinds}")
    for d in rendered:
        if d["kind"] == "Job":
            for v in d["spec"]["template"]["spec"].get("volumes", []):
                if "configMap" in v:
                    check(v["configMap"]["name"] in maps, f"kustomize: {d['metadata']['name']} mounts "
                                                          f"{v['configMap']['name']}, which the build does not make")
    print(f"check-examples: kubectl kustomize builds {len(rendered)} objects")


# Slurm ----------------------------------------------------------------------------------------------------------

def sbatch_directives(path):
    directives = {}
    for line in path.read_text().splitlines()[1:]:
        if line.startswith("#SBATCH"):
            for word in line.split()[1:]:
                name, _, value = word.partition("=")
                directives[name] = value
        elif line.strip() and not line.startswith("#"):
            break  # sbatch reads no directive after the first command
    return directives


def check_slurm_directives():
    script = SLURM / "hounsfield.sbatch"
    if not check(script.is_file(), "Examples/slurm/hounsfield.sbatch is missing"):
        return None
    d = sbatch_directives(script)
    check("--nodes" in d, "hounsfield.sbatch: #SBATCH --nodes")
    check(d.get("--ntasks-per-node") == "1", "hounsfield.sbatch: #SBATCH --ntasks-per-node=1")
    check(re.fullmatch(r"B:USR1@\d+", d.get("--signal", "")) is not None, "hounsfield.sbatch: #SBATCH --signal=B:USR1@…")
    check("--requeue" in d, "hounsfield.sbatch: #SBATCH --requeue")
    check(d.get("--open-mode") == "append", "hounsfield.sbatch: #SBATCH --open-mode=append")
    return script


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_sbatch(script, scratch, name, mode, arguments, send=None, environment_changes=None):
    """Runs the script as sbatch would, with the stand-ins; returns (exit status, event lines, stderr)."""
    events = scratch / f"{name}.events"
    events.write_text("")
    bin_dir = scratch / "bin"
    if not bin_dir.exists():
        bin_dir.mkdir()
        for role in ("srun", "scontrol", "hounsfield"):
            wrapper = bin_dir / role
            wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "scripts" / "slurm-standin.py"}" '
                               f'{role} "$@"\n')
            wrapper.chmod(0o755)
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOUNSFIELD_BIN": str(bin_dir / "hounsfield"),
        "COORDINATOR_HOST": "127.0.0.1",
        "COORDINATOR_PORT": str(free_port()),
        "SLURM_JOB_ID": "4242",
        "SLURM_JOB_NODELIST": "node-a,node-b",
        "SLURM_CPUS_PER_TASK": "2",
        "HOUNSFIELD_WORKER_NAME": "leaked_from_the_submitter",
        "STANDIN_EVENTS": str(events),
        "STANDIN_COORDINATOR": mode,
        "STANDIN_WORKERS": "2",
        "HOUNSFIELD_SALT_FILE": str(scratch / "salt"),
    }
    environment.pop("HOUNSFIELD_SALT", None)
    environment.update(environment_changes or {})
    environment = {k: v for k, v in environment.items() if v is not None}
    process = subprocess.Popen(["bash", str(script), *arguments], env=environment, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: os.umask(0o022))
    if send is not None:
        deadline = time.monotonic() + 20
        while events.read_text().count("coordinator hello") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(send)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        check(False, f"hounsfield.sbatch ({name}): still running after 60 s")
    return process.returncode, events.read_text().splitlines(), stderr


def check_slurm_run(script):
    with tempfile.TemporaryDirectory(prefix="check-examples-") as folder:
        scratch = Path(folder)
        output = scratch / "out"
        arguments = [str(scratch / "archive"), "--output", str(output)]
        salt = scratch / "salt"
        salt.write_text("a test salt\n")
        salt.chmod(0o600)

        def lines(events, prefix):
            return [i for i, e in enumerate(events) if e.startswith(prefix)]

        # A run that finishes: the workers connect to the address given, drain, and the script exits 0.
        status, events, stderr = run_sbatch(script, scratch, "finish", "finish:0", arguments)
        check(status == 0, f"hounsfield.sbatch (finished run): exit status {status}, expected 0\n{stderr}")
        start = next((e.split()[2:] for e in events if e.startswith("coordinator start")), [])
        check(start[:len(arguments)] == arguments, f"hounsfield.sbatch: the coordinator got {start}, not the "
                                                   f"script's arguments first")
        named, _ = flags(start)
        check(named.get("listen", "").startswith("127.0.0.1:") and named.get("token-file") ==
              str(output / ".hounsfield" / "token"), f"hounsfield.sbatch: coordinator flags {named}")
        check(sorted(e.split()[1] for e in events if e.endswith(" drained") and e.startswith("worker")) ==
              ["node_a", "node_b"], "hounsfield.sbatch: a worker per node, named after its host, each drained "
                                    f"(HOUNSFIELD_WORKER_NAME from the submitter unset): {events}")
        srun = next((e for e in events if e.startswith("srun")), "")
        check("--cpus-per-task=2" in srun and "--ntasks-per-node=1" in srun and "--nodes=2" in srun,
              f"hounsfield.sbatch: srun {srun}")
        check(not lines(events, "scontrol requeue"), "hounsfield.sbatch: requeued a finished run")
        token = output / ".hounsfield" / "token"
        if check(token.is_file(), "hounsfield.sbatch: no token file in the output folder"):
            check(stat.S_IMODE(token.stat().st_mode) == 0o600, "hounsfield.sbatch: the token file must be 0600")
            check(len(token.read_text()) == 64, "hounsfield.sbatch: the token must be 32 random bytes in hex")
            check(stat.S_IMODE(output.stat().st_mode) == 0o755,
                  "hounsfield.sbatch: umask 077 leaked to the output folder")
            first_token = token.read_text()
        else:
            first_token = None
        check("coordinator umask 0o22" in events,
              f"hounsfield.sbatch: the coordinator must run with the submitter's umask (022 here): {events}")
        check("coordinator salt a test salt" in events and "--salt" not in " ".join(start),
              f"hounsfield.sbatch: the coordinator must get HOUNSFIELD_SALT from HOUNSFIELD_SALT_FILE (without its "
              f"final newline), and no --salt: {events}")
        check(sorted(e for e in events if e.startswith("worker") and " salt " in e) ==
              ["worker node_a salt (none)", "worker node_b salt (none)"],
              f"hounsfield.sbatch: the workers must not inherit HOUNSFIELD_SALT: {events}")

        # Some series failed: status 3 passes through, the token is the one made before.
        status, events, stderr = run_sbatch(script, scratch, "failed-series", "finish:3", arguments)
        check(status == 3, f"hounsfield.sbatch (some series failed): exit status {status}, expected 3\n{stderr}")
        check(not lines(events, "scontrol requeue"), "hounsfield.sbatch: requeued a run that ended with status 3")
        check(first_token is None or token.read_text() == first_token, "hounsfield.sbatch: the token changed")

        # A configuration error: the coordinator exits 2 before it listens; no worker starts.
        status, events, stderr = run_sbatch(script, scratch, "configuration-error", "fail:2", arguments)
        check(status == 2, f"hounsfield.sbatch (configuration error): exit status {status}, expected 2\n{stderr}")
        check(not lines(events, "srun"), "hounsfield.sbatch: started workers after the coordinator failed")

        # The time limit near (USR1 to the script): the workers stop, then the coordinator, then the job is requeued.
        status, events, stderr = run_sbatch(script, scratch, "time-limit", "serve", arguments, send=signal.SIGUSR1)
        stopped = lines(events, "worker node_a SIGTERM") + lines(events, "worker node_b SIGTERM")
        coordinator_stopped = lines(events, "coordinator SIGTERM")
        requeued = lines(events, "scontrol requeue 4242")
        check(len(stopped) == 2 and len(coordinator_stopped) == 1 and max(stopped) < coordinator_stopped[0],
              f"hounsfield.sbatch (USR1): the workers must get SIGTERM before the coordinator: {events}")
        check(len(requeued) == 1 and coordinator_stopped and requeued[0] > coordinator_stopped[0],
              f"hounsfield.sbatch (USR1): the job must be requeued once the coordinator stopped: {events}")
        check(status == 130, f"hounsfield.sbatch (USR1): exit status {status}, expected the coordinator's 130")

        # Cancelled (TERM): stopped in the same order, not requeued.
        status, events, stderr = run_sbatch(script, scratch, "cancel", "serve", arguments, send=signal.SIGTERM)
        stopped = lines(events, "worker node_a SIGTERM") + lines(events, "worker node_b SIGTERM")
        coordinator_stopped = lines(events, "coordinator SIGTERM")
        check(len(stopped) == 2 and len(coordinator_stopped) == 1 and max(stopped) < coordinator_stopped[0],
              f"hounsfield.sbatch (TERM): the workers must get SIGTERM before the coordinator: {events}")
        check(not lines(events, "scontrol requeue"), f"hounsfield.sbatch (TERM): must not requeue: {events}")

        # HOUNSFIELD_SALT_FILE naming no file: refused before anything starts; without HOUNSFIELD_SALT_FILE, a salt
        # exported by the submitter reaches the coordinator as it is.
        status, events, stderr = run_sbatch(script, scratch, "no-salt-file", "finish:0", arguments,
                                            environment_changes={"HOUNSFIELD_SALT_FILE": str(scratch / "absent")})
        check(status == 2 and not events, f"hounsfield.sbatch with a missing salt file: status {status}, "
                                          f"events {events}")
        status, events, stderr = run_sbatch(script, scratch, "exported-salt", "finish:0", arguments,
                                            environment_changes={"HOUNSFIELD_SALT_FILE": None,
                                                                 "HOUNSFIELD_SALT": "exported"})
        check(status == 0 and "coordinator salt exported" in events,
              f"hounsfield.sbatch with HOUNSFIELD_SALT exported: status {status}, events {events}\n{stderr}")

        # No --output: refused before anything starts.
        status, events, stderr = run_sbatch(script, scratch, "no-output", "finish:0", [str(scratch / "archive")])
        check(status == 2 and not events, f"hounsfield.sbatch without --output: status {status}, events {events}")
    print("check-examples: hounsfield.sbatch run against stand-ins for srun, scontrol and hounsfield "
          "(finished, failed series, configuration error, USR1, TERM, the salt's two ways in, no --output)")


def main():
    documents = parse_all()
    check_kubernetes(documents)
    check_kustomize()
    script = check_slurm_directives()
    if script is not None:
        check_slurm_run(script)
    if failures:
        for failure in failures:
            print(f"check-examples: FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
    print("check-examples: the examples are consistent")


if __name__ == "__main__":
    main()
