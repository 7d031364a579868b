"""`netra-stack dashboard` against real environments, driven in headless Chromium (Debian's
chromium and chromedriver, through selenium): the page lists an environment, a service stopped
with `docker stop` turns STOPPED on the page without a reload, its restart button brings it
back, an environment taken down disappears, requests without the token and cross-origin POSTs
are refused, and an engine that cannot be reached is said on the page until it comes back.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from netra_stack import StackManager
from netra_stack.model.errors import ExitCode
from tests.engine import engine
from tests.helpers import REPO

from .conftest import run_cli

pytestmark = pytest.mark.slow
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser(tmp_path):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("chromium and chromedriver are needed: scripts/bootstrap installs them (Debian's packages)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1300,1000"):
        options.add_argument(argument)
    # Chromium leaves a folder for its singleton socket in TMPDIR: this test's, removed with it
    service = Service(CHROMEDRIVER, env={**os.environ, "TMPDIR": str(tmp_path)})
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Dashboard:
    """A `netra-stack dashboard` process and the URL it printed; ended by its pid."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "netra_stack", "dashboard", "--port", "0", *args],
                                        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        found = re.search(r"(http://\S+)", line)
        assert found, line + self.process.stderr.read()
        self.url = found.group(1)
        self.base = self.url.split("/?", 1)[0]
        self.token = self.url.split("token=", 1)[1]

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def dashboard(mini_env):
    found = Dashboard(mini_env)
    yield found
    found.close()


def wait_for(what: str, check, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.05)


def state_of(driver, environment: str, service: str) -> str | None:
    return driver.execute_script(
        "const row = document.querySelector(`article[data-env='${arguments[0]}'] tr[data-service='${arguments[1]}']`);"
        "return row ? row.dataset.state : null;", environment, service)


def shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"dashboard-{name}.png"
    driver.save_screenshot(str(path))
    return path


def test_the_page_follows_a_stopped_service_restarts_it_and_drops_an_environment_taken_down(
        mini_env, dashboard, browser):
    manager = StackManager("mini", environ=mini_env)
    name, _ = manager.acquire_environment()
    try:
        browser.get(dashboard.url)
        wait_for("the environment on the page", lambda: state_of(browser, name, "web") == "HEALTHY", 30)
        browser.execute_script("window.notReloaded = true;")
        page = browser.find_element("css selector", f"article[data-env='{name}']").text
        assert "web" in page and "worker" in page and "mini" in page
        port = manager.ports(name)["web"]
        assert browser.find_elements("css selector", f"article[data-env='{name}'] a[href='http://127.0.0.1:{port}/']")
        browser.find_element("css selector", f"article[data-env='{name}'] button.usage-toggle").click()
        used = wait_for("web's memory against its limit", lambda: browser.execute_script(
            "const c = document.querySelector(`article[data-env='${arguments[0]}'] tr[data-service='web'] td.usage`);"
            "return c && c.textContent.includes(' of ') ? c.textContent : null;", name), 15)
        assert " of 64 MiB (" in used and "CPU" in used, used  # mini's web: memory = "64m"
        shot(browser, "healthy")

        web = {c.service: c for c in engine.containers(name)}["web"]
        engine.client().api.stop(web.id, timeout=1)
        wait_for("web STOPPED on the page", lambda: state_of(browser, name, "web") in ("STOPPED", "UNHEALTHY"), 2)
        assert browser.execute_script("return window.notReloaded === true;")  # updated in place
        shot(browser, "stopped")

        browser.find_element("css selector", f"article[data-env='{name}'] tr[data-service='web'] button.restart").click()
        wait_for("web HEALTHY again after its restart button", lambda: state_of(browser, name, "web") == "HEALTHY", 60)
        assert browser.execute_script("return window.notReloaded === true;")
        wait_for("the restart said done", lambda: browser.find_elements(
            "css selector", "#actions [data-state='done']"), 30)
    finally:
        manager.release_environment(name)
    wait_for("the environment gone from the page", lambda: not browser.find_elements(
        "css selector", f"article[data-env='{name}']"), 10)


def test_the_up_button_starts_a_profile_and_the_down_button_removes_it(mini_env, dashboard, browser):
    before = {c.environment for c in engine.containers()}
    try:
        browser.get(dashboard.url)
        wait_for("mini among the profiles", lambda: browser.find_elements(
            "css selector", "#profile option[value='mini']"), 10)
        browser.execute_script("document.getElementById('profile').value = 'mini';")
        browser.find_element("id", "up").click()
        wait_for("the up said done", lambda: browser.find_elements("css selector", "#actions [data-state='done']"), 90)
        made = {c.environment for c in engine.containers()} - before
        assert len(made) == 1, made
        name = next(iter(made))
        wait_for("the new environment HEALTHY on the page", lambda: state_of(browser, name, "web") == "HEALTHY", 30)
        browser.execute_script("window.confirm = () => true;")  # the down button asks first
        browser.find_element("css selector", f"article[data-env='{name}'] button.down").click()
        wait_for("the environment gone from the page after its down button", lambda: not browser.find_elements(
            "css selector", f"article[data-env='{name}']"), 60)
        assert not engine.containers(name)
    finally:
        for name in {c.environment for c in engine.containers()} - before:  # what the down button left
            StackManager("mini", environ=mini_env).release_environment(name)


def _request(url: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method=method, headers=headers or {}),
                                    timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_profiles_secret_is_masked_in_the_log_tail_and_everything_the_page_is_sent(mini_env, dashboard, browser):
    manager = StackManager("mini", environ=mini_env)
    name, _ = manager.acquire_environment()
    try:
        worker = {c.service: c for c in engine.containers(name)}["worker"]
        # into the container's own log: PID 1's stdout (mini's worker holds API_TOKEN = "s3cr3t-value")
        engine.client().containers.get(worker.id).exec_run(["sh", "-c", 'echo "token is $API_TOKEN" > /proc/1/fd/1'])
        browser.get(dashboard.url)
        wait_for("the environment on the page", lambda: state_of(browser, name, "worker") == "HEALTHY", 30)
        browser.find_element("css selector", f"article[data-env='{name}'] tr[data-service='worker'] button.logs").click()
        line = wait_for("the worker's log line on the page", lambda: next((line for line in browser.find_element(
            "id", "log-lines").text.splitlines() if "token is" in line), None), 15)
        assert "s3cr3t-value" not in line and "***" in line, line
        state = json.loads(urllib.request.urlopen(f"{dashboard.base}/api/state?token={dashboard.token}").read())
        assert state["environments"] and "s3cr3t-value" not in json.dumps(state)
        assert "s3cr3t-value" not in browser.page_source
    finally:
        manager.release_environment(name)


def test_every_request_needs_the_token_and_a_cross_origin_post_is_refused(dashboard):
    assert _request(dashboard.url) == 200
    assert _request(dashboard.base + "/") == 403
    assert _request(dashboard.base + "/?token=wrong") == 403
    assert _request(dashboard.base + "/static/app.js") == 403
    assert _request(dashboard.base + "/api/events") == 403
    assert _request(f"{dashboard.base}/api/state?token={dashboard.token}") == 200
    action = json.dumps({"action": "up", "profile": "mini"}).encode()
    own = {"Content-Type": "application/json", "Origin": dashboard.base}
    assert _request(dashboard.base + "/api/actions", "POST", {**own, "X-Netra-Token": dashboard.token,
                                                                "Origin": "http://evil.example"}, action) == 403
    assert _request(dashboard.base + "/api/actions", "POST", {**own, "X-Netra-Token": dashboard.token,
                                                                "Sec-Fetch-Site": "cross-site"}, action) == 403
    assert _request(f"{dashboard.base}/api/actions?token={dashboard.token}", "POST", own, action) == 403  # no header
    bad = json.dumps({"action": "rm -rf /"}).encode()
    assert _request(dashboard.base + "/api/actions", "POST", {**own, "X-Netra-Token": dashboard.token}, bad) == 400


class SocketRelay:
    """A unix socket that relays to the engine's while open: an engine that goes away and comes back."""

    def __init__(self, path: Path, target: str = "/var/run/docker.sock") -> None:
        self.path, self.target = path, target
        self.server: socket.socket | None = None

    def open(self) -> None:
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(self.path))
        self.server.listen(16)
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.path.unlink(missing_ok=True)


def test_an_engine_that_cannot_be_reached_is_said_on_the_page_until_it_comes_back(mini_env, browser, tmp_path):
    relay = SocketRelay(tmp_path / "docker.sock")
    found = Dashboard({**mini_env, "DOCKER_HOST": f"unix://{relay.path}"})
    try:
        browser.get(found.url)
        banner = wait_for("the engine's absence on the page", lambda: browser.execute_script(
            "const b = document.getElementById('engine'); return b.hidden ? null : b.textContent;"), 10)
        assert "cannot reach the engine" in banner and "Traceback" not in banner
        shot(browser, "no-engine")
        relay.open()
        wait_for("the page recovered", lambda: browser.execute_script(
            "return document.getElementById('engine').hidden;"), 15)
    finally:
        found.close()
        relay.close()


def test_a_port_in_use_is_one_line_naming_it_and_its_holder_exit_7(mini_env):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = run_cli("dashboard", "--port", str(port), env=mini_env, timeout=30)
    assert result.returncode == ExitCode.ENGINE_ERROR, result.stderr
    line, = result.stderr.strip().splitlines()
    assert f"127.0.0.1:{port}" in line and f"pid {os.getpid()}" in line and "--port" in line


def test_a_remote_address_is_refused_without_allow_remote(mini_env):
    result = run_cli("dashboard", "--host", "0.0.0.0", env=mini_env, timeout=30)
    assert result.returncode == ExitCode.USAGE and "--allow-remote" in result.stderr
    assert "Traceback" not in result.stderr
