"""What runs in a namespace, as every backend reports it: each pod an Instance, read from the
pod's status (its phase, its container's state, readiness) and the namespace's events (the
kubelet's probe failures, a pull that failed), and its resource use (the kubelet's summary).
Pure functions over the API's objects as dicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from netra_stack.model import labels as L
from netra_stack.model.decisions import PortBinding
from netra_stack.model.instances import Instance
from netra_stack.model.usage import Usage

# A container waiting for one of these will not start until something changes: the image, a
# missing ConfigMap or Secret, its command.
CANNOT_START = frozenset({"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName",
                          "CreateContainerConfigError", "CreateContainerError", "RunContainerError"})
PROBE_EVENTS = frozenset({"Unhealthy"})  # the kubelet's probe failures, with the probe's output


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def node_ports(services: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[int, str, int]]]:
    """Compose service -> (container port, protocol, node port) of each port published as a NodePort."""
    found: dict[str, list[tuple[int, str, int]]] = {}
    for service in services:
        spec = service.get("spec") or {}
        if spec.get("type") != "NodePort" or not (spec.get("selector") or {}).get(L.SERVICE):
            continue
        found[spec["selector"][L.SERVICE]] = [(int(p.get("targetPort") or p["port"]), str(p.get("protocol", "TCP")).lower(),
                                               int(p["nodePort"])) for p in spec.get("ports") or [] if p.get("nodePort")]
    return found


def probe_messages(events: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Pod name -> the newest probe failure the kubelet reported for it."""
    found: dict[str, tuple[str, str]] = {}
    for event in events:
        involved = event.get("involvedObject") or {}
        if involved.get("kind") != "Pod" or event.get("reason") not in PROBE_EVENTS:
            continue
        when = str(event.get("lastTimestamp") or event.get("eventTime") or (event.get("metadata") or {}).get("creationTimestamp") or "")
        name = involved.get("name", "")
        if name not in found or when >= found[name][0]:
            found[name] = (when, (event.get("message") or "").strip())
    return {name: message for name, (_, message) in found.items()}


def terminating(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("metadata") or {}).get("deletionTimestamp"))


def pod_instance(pod: Mapping[str, Any], ports: Mapping[str, list[tuple[int, str, int]]] | None = None,
                 probes: Mapping[str, str] | None = None) -> Instance:
    """A pod as an Instance: `ports`, the NodePorts of its service (node_ports); `probes`, the
    probe failures by pod (probe_messages)."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    labels = {**(meta.get("annotations") or {}), **(meta.get("labels") or {})}
    labels = {k: v for k, v in labels.items() if k.startswith(L.PREFIX)}
    container = (spec.get("containers") or [{}])[0]
    state = next(iter((status.get("containerStatuses") or [{}])), {})
    now = state.get("state") or {}
    last = (state.get("lastState") or {}).get("terminated") or {}
    restarts = int(state.get("restartCount") or 0)
    probe = "readinessProbe" in container
    command = ((container.get("readinessProbe") or {}).get("exec") or {}).get("command") or []
    output = (probes or {}).get(meta.get("name", ""), "")
    exit_code, started, health = None, None, None
    if "running" in now:
        kind, started = "running", parse_time(now["running"].get("startedAt"))
        if probe:
            health = "healthy" if state.get("ready") else "starting"
        if last.get("reason") == "OOMKilled":
            output = f"restarted after OOMKilled (exit {last.get('exitCode')}); {output}".rstrip("; ")
    elif "terminated" in now:
        done = now["terminated"]
        kind, exit_code = "exited", done.get("exitCode")
        output = _reason(done) or output
    elif "waiting" in now:
        waiting = now["waiting"]
        reason = waiting.get("reason") or ""
        if reason == "CrashLoopBackOff":
            kind, exit_code = "restarting", last.get("exitCode")
            output = _reason(last) or output
        elif reason in CANNOT_START:
            kind = "dead"
            output = f"{reason}: {waiting.get('message') or ''}".rstrip(": ")
        else:
            kind = "created"
    else:  # not scheduled yet, or no container made
        kind = "created"
        unscheduled = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"
                            and c.get("status") == "False"), None)
        if unscheduled:
            output = f"not scheduled: {unscheduled.get('message') or unscheduled.get('reason')}"
    host = status.get("hostIP") or ""
    service = labels.get(L.SERVICE, "")
    bindings = [PortBinding(service, target, protocol, host, node_port)
                for target, protocol, node_port in (ports or {}).get(service, [])] if kind == "running" else []
    return Instance(
        id=meta.get("uid") or meta.get("name", ""), name=meta.get("name", ""), labels=labels, status=kind,
        exit_code=exit_code, health=health, health_output=output, ports=bindings,
        created=parse_time(meta.get("creationTimestamp")), started=started, restart_count=restarts,
        healthcheck=("CMD", *command) if command else (),
        addresses={"pod": status["podIP"]} if status.get("podIP") else {}, node=spec.get("nodeName") or "")


def _reason(terminated: Mapping[str, Any]) -> str:
    """Why a container ended, where the kubelet says more than its exit code (OOMKilled, Error)."""
    reason, message = terminated.get("reason") or "", (terminated.get("message") or "").strip()
    if reason in ("", "Completed", "Error") and not message:
        return ""
    return f"{reason}: {message}" if message else reason


def start_failure(pod: Mapping[str, Any]) -> str | None:
    """Why a pod cannot start (a pull that failed, a missing ConfigMap), naming the pod and the
    image, with the kubelet's message; None while it may still start."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    for state in status.get("containerStatuses") or []:
        waiting = (state.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in CANNOT_START:
            return (f"pod {meta.get('name')}: image {state.get('image')}: {waiting['reason']}: "
                    f"{(waiting.get('message') or '').strip()}").rstrip(": ")
    return None


def has_started(pod: Mapping[str, Any]) -> bool:
    """Whether a pod's containers got past being made: running, ended, or waiting to start again."""
    states = [(s.get("state") or {}) for s in (pod.get("status") or {}).get("containerStatuses") or []]
    return bool(states) and all("running" in s or "terminated" in s
                                or (s.get("waiting") or {}).get("reason") == "CrashLoopBackOff" for s in states)


def _quantity(value: Any) -> float:
    from lightkube.utils.quantity import parse_quantity

    return float(parse_quantity(str(value))) if value not in (None, "") else 0.0


def pod_usage(pod: Mapping[str, Any], measured: Mapping[str, Any] | None, now: float) -> Usage:
    """A pod's resource use: its limits, restarts and OOM kills from the pod, what it uses from
    the kubelet's summary of it (`stats/summary`, the source metrics-server reads; None before
    the kubelet has measured it)."""
    containers = (pod.get("spec") or {}).get("containers") or []
    limits = [(c.get("resources") or {}).get("limits") or {} for c in containers]
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    killed = sum(1 for s in statuses for state in ((s.get("state") or {}).get("terminated"),
                                                 (s.get("lastState") or {}).get("terminated"))
                 if state and state.get("reason") == "OOMKilled")
    measured = measured or {}
    parts = measured.get("containers") or []
    memory = sum(int((c.get("memory") or {}).get("workingSetBytes") or 0) for c in parts)
    network = measured.get("network") or {}
    metadata = pod.get("metadata") or {}
    phase = str((pod.get("status") or {}).get("phase") or "Unknown")
    return Usage(
        service=(metadata.get("labels") or {}).get(L.SERVICE, ""), instance=str(metadata.get("name", "")), time=now,
        cpu_percent=sum(int((c.get("cpu") or {}).get("usageNanoCores") or 0) for c in parts) / 1e7,
        memory_bytes=memory, memory_peak_bytes=memory,
        memory_limit_bytes=int(sum(_quantity(limit.get("memory")) for limit in limits)) if all(l.get("memory") for l in limits) else 0,
        cpu_limit=round(sum(_quantity(limit.get("cpu")) for limit in limits), 3) if all(l.get("cpu") for l in limits) else 0.0,
        net_rx_bytes=int(network.get("rxBytes") or 0), net_tx_bytes=int(network.get("txBytes") or 0),
        pids=int((measured.get("process_stats") or {}).get("process_count") or 0),
        restarts=sum(int(s.get("restartCount") or 0) for s in statuses), oom_kills=killed,
        status="running" if phase == "Running" else phase.lower())
