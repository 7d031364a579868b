"""Host-side health checks: the check tables in profiles (errors, extends), where a check connects,
and the http and tcp checks against servers on this host's loopback (no Docker)."""

from __future__ import annotations

import http.server
import socket
import threading

import pytest

from conftest import MINIMAL
from netra_stack.plugins.builtin.host_checks import endpoint, http_check, run_host_check, tcp_check
from netra_stack.model.instances import Instance
from netra_stack.model.errors import ProfileError
from netra_stack.model.decisions import PortBinding
from netra_stack.model.profiles import HttpCheck, LogCheck, TcpCheck

from test_profile_errors import assert_one_line

HTTP = '{ http = "/health", port = 8000, status = 200 }'


@pytest.mark.parametrize(
    ("health", "fragments"),
    [
        ('{ http = "/x" }', ["services.web.health: port: missing; expected " + HTTP]),
        ('{ http = "/x", port = 80, statuz = 200 }', ["services.web.health: unknown key 'statuz'; expected " + HTTP]),
        ('{ http = "/x", port = 80, status = 42 }', ["status = 42: should be greater than or equal to 100"]),
        ("{ tcp = 0 }", ["services.web.health: tcp = 0: should be greater than or equal to 1; expected { tcp = 5432 }"]),
        ('{ log = "" }', ["log = '': String should have at least 1 character",
                          'expected { log = "ready to accept connections", times = 1 }']),
        ("{ tpc = 5432 }", ["services.web.health: expected a command (a string or a list), or a table with one of "
                            "http, tcp or log: " + HTTP + ", { tcp = 5432 }"]),
        ('{ tcp = 5432, http = "/" }', ["services.web.health: expected a command", "one of http, tcp or log"]),
        ('["wget", 1]', ["services.web.health = ['wget', 1]: expected a command (a string or a list)"]),
    ],
)
def test_a_malformed_check_table_says_what_is_expected(load, tmp_path, health, fragments):
    with pytest.raises(ProfileError) as info:
        load(MINIMAL + f"[services.web]\nhealth = {health}\n", name="bad")
    assert str(info.value).startswith(f"{tmp_path / 'profiles' / 'bad.toml'}: ")
    assert_one_line(info.value, *fragments)


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        ('{ http = "/health", port = 8000 }', HttpCheck(http="/health", port=8000, status=200)),
        ("{ tcp = 5432 }", TcpCheck(tcp=5432)),
        ('{ log = "ready", times = 2 }', LogCheck(log="ready", times=2)),
        ('"pg_isready -q"', "pg_isready -q"),
    ],
)
def test_check_tables_load(load, health, expected):
    assert load(MINIMAL + f"[services.web]\nhealth = {health}\n").services["web"].health == expected


def test_a_childs_check_table_replaces_the_parents(load):
    parent = MINIMAL + '[services.web]\nhealth = { tcp = 8000 }\nmemory = "64m"\n'
    child = 'extends = "base"\n[services.web]\nhealth = { http = "/health", port = 8000 }\n'
    profile = load(child, others={"base": parent})
    assert profile.services["web"].health == HttpCheck(http="/health", port=8000)
    assert profile.services["web"].memory == 64 * 1024**2  # the rest of the table still merges


# --- where a check connects --------------------------------------------------------------------------


def container(addresses=None, ports=()) -> Instance:
    return Instance(id="c0ffee", name="env-web-1", labels={}, status="running", exit_code=None, health=None,
                         health_output="", ports=list(ports), addresses=addresses or {})


def test_endpoint_prefers_the_containers_address_then_the_published_port_then_loopback():
    published = [PortBinding("web", 8000, "tcp", "::", 34001), PortBinding("web", 8000, "tcp", "0.0.0.0", 34000),
                 PortBinding("web", 9000, "udp", "127.0.0.1", 35000)]
    assert endpoint(container({"env_default": "172.18.0.5"}, published), 8000) == ("172.18.0.5", 8000)
    assert endpoint(container(ports=published), 8000) == ("127.0.0.1", 34000)  # IPv4 first, 0.0.0.0 is reachable locally
    assert endpoint(container(ports=published[:1]), 8000) == ("::1", 34001)
    assert endpoint(container(ports=[PortBinding("web", 8000, "tcp", "127.0.0.2", 34002)]), 8000) == ("127.0.0.2", 34002)
    assert endpoint(container(ports=published), 9000) == ("127.0.0.1", 9000)  # udp only: no tcp port published
    assert run_host_check(None, container(), "pg_isready") is None and run_host_check(None, container(), None) is None


# --- http and tcp against this host's loopback (a container with no network: network_mode host) ----------


@pytest.fixture
def server():
    """An HTTP server on a free loopback port: 200 on /health, 503 on /busy, 404 elsewhere."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response({"/health": 200, "/busy": 503}.get(self.path, 404))
            self.end_headers()

        def log_message(self, *args):
            pass

    found = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=found.serve_forever, daemon=True)
    thread.start()
    yield found.server_address[1]
    found.shutdown()
    found.server_close()
    thread.join(timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_http_check_compares_the_status(server):
    ok = http_check(container(), HttpCheck(http="/health", port=server))
    assert (ok.ok, ok.output, ok.kind, ok.exit_code) == (True, "HTTP 200", "http", None) and ok.latency_ms > 0
    busy = http_check(container(), HttpCheck(http="busy", port=server))  # a path without its slash still works
    assert (busy.ok, busy.output) == (False, "HTTP 503, expected 200")
    assert http_check(container(), HttpCheck(http="/gone", port=server, status=404)).ok


def test_http_and_tcp_checks_say_connection_refused():
    port = free_port()
    for check in (http_check(container(), HttpCheck(http="/", port=port)), tcp_check(container(), TcpCheck(tcp=port))):
        assert not check.ok and check.output == f"connection refused at 127.0.0.1:{port}"


def test_http_check_says_when_the_connection_closes_unanswered():
    # what docker-proxy does on a published port when nothing listens behind it
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def close_at_once():
            conn, _ = listener.accept()
            conn.close()

        threading.Thread(target=close_at_once, daemon=True).start()
        port = listener.getsockname()[1]
        found = http_check(container(), HttpCheck(http="/", port=port))
    assert not found.ok and found.output == f"connection closed without an answer at 127.0.0.1:{port}"


def test_tcp_check_connects(server):
    found = tcp_check(container(), TcpCheck(tcp=server))
    assert (found.ok, found.output, found.kind) == (True, f"connected to 127.0.0.1:{server}", "tcp")
