"""What the dashboard shows of an environment (netra_stack.dashboard.board), from instances as a
backend reports them, without an engine: states, what a failure holds up, ports, the graph read
from the depends-on label, and secrets masked."""

from __future__ import annotations

from netra_stack.dashboard.board import environment_view, graph_of
from netra_stack.model import labels as L
from netra_stack.model.decisions import PortBinding
from netra_stack.model.instances import Instance
from netra_stack.model.redact import Redactor


def instance(service: str, status="running", health=None, output="", depends="", one_shot=False, ports=(),
             exit_code=None) -> Instance:
    labels = {L.ENVIRONMENT: "env-1", L.PROFILE: "p", L.COMPOSE_SERVICE: service, L.DEPENDS_ON: depends}
    if one_shot:
        labels[L.ONE_SHOT] = "true"
    return Instance(id=service, name=f"env-1-{service}-1", labels=labels, status=status, exit_code=exit_code,
                    health=health, health_output=output, ports=list(ports))


def test_the_graph_comes_from_each_services_depends_on_label():
    graph = graph_of([instance("web", depends="db:service_healthy,migrate:service_completed_successfully"),
                      instance("db"), instance("migrate", depends="db")])
    assert graph.edges == {"web": {"db": {"condition": "service_healthy"},
                                   "migrate": {"condition": "service_completed_successfully"}},
                           "db": {}, "migrate": {"db": {"condition": "service_started"}}}  # no condition: started
    assert graph.gates("web") == {"db"}

def test_a_stopped_service_is_shown_with_what_it_holds_up_and_secrets_masked():
    web = instance("web", health="unhealthy", output="GET /?key=hunter2 failed", depends="db:service_healthy",
                   ports=[PortBinding("web", 8080, "tcp", "0.0.0.0", 31000),
                          PortBinding("web", 8080, "tcp", "::", 31000)])
    view = environment_view("env-1", [web, instance("db", status="exited", exit_code=137),
                                      instance("migrate", status="exited", exit_code=0, one_shot=True)],
                            Redactor(["hunter2"]))
    services = {s["service"]: s for s in view["services"]}
    assert view["name"] == "env-1" and view["profile"] == "p"
    assert services["db"]["state"] == "STOPPED" and services["web"]["held_up_by"] == ["db"]
    assert services["migrate"]["state"] == "HEALTHY" and services["migrate"]["held_up_by"] == []  # ran to success
    assert services["web"]["ports"] == [{"host": "127.0.0.1", "port": 31000, "container": 8080, "protocol": "tcp"}]
    assert "hunter2" not in str(view) and "***" in services["web"]["last_probe"]
    drawn = {node["service"]: node for node in view["picture"]["nodes"]}
    assert drawn["db"]["holds_up"] == ["web"]
