"""The dashboard, measured in a real browser (headless Chromium through selenium):

1. latency: a service stopped with `docker stop` against the moment the open page shows it
   STOPPED: the container's own end (the engine's FinishedAt) against the page's clock when
   the row changed (a MutationObserver in the page); `--rounds` stops, median;
2. cost: `--environments` mini environments up and the page open for `--window` seconds: the
   dashboard process's CPU time (its /proc stat) over that window, as a share of one core.

    .venv/bin/python bench/dashboard.py [--rounds 10] [--environments 10] [--window 60]

Uses the tests' mini stack (tests/fixtures/mini); everything it starts is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from netra_stack import StackManager  # noqa: E402
from tests.engine import engine  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--rounds", type=int, default=10)
parser.add_argument("--environments", type=int, default=10)
parser.add_argument("--window", type=float, default=60.0)
args = parser.parse_args()
env = {**os.environ, "NETRA_STACK_PROFILE_PATH": str(REPO / "tests" / "fixtures" / "mini" / "profiles")}
os.environ.update(env)

WATCH = """
window.seen = {};
new MutationObserver(() => {
  for (const row of document.querySelectorAll('tr[data-service="web"]')) {
    const key = row.closest('article').dataset.env + ' ' + row.dataset.state;
    if (!(key in window.seen)) window.seen[key] = Date.now();
  }
}).observe(document.getElementById('environments'), {childList: true, subtree: true});
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    # Chromium leaves a folder for its singleton socket in TMPDIR: the bench's own, removed at the end
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver", env={**os.environ, "TMPDIR": SCRATCH}),
                            options=options)


names: list[str] = []
SCRATCH = tempfile.mkdtemp(prefix="netra-bench-")
dashboard = subprocess.Popen([sys.executable, "-m", "netra_stack", "dashboard", "--port", "0"], env=env, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
driver = None
try:
    url = re.search(r"(http://\S+)", dashboard.stdout.readline()).group(1)
    manager = StackManager("mini", environ=env)
    names.append(manager.acquire_environment()[0])
    driver = browser()
    driver.get(url)
    driver.execute_script(WATCH)
    latencies = []
    for _ in range(args.rounds):
        web = {c.service: c for c in engine.containers(names[0])}["web"]
        engine.client().api.stop(web.id, timeout=1)
        ended = engine.client().api.inspect_container(web.id)["State"]["FinishedAt"]
        ended = datetime.fromisoformat(re.sub(r"(\.\d{6})\d*", r"\1", ended.replace("Z", "+00:00"))).timestamp()
        key = f"{names[0]} STOPPED"
        deadline = time.monotonic() + 10
        while (shown := driver.execute_script("return window.seen[arguments[0]];", key)) is None:
            assert time.monotonic() < deadline, "the page did not show web STOPPED"
            time.sleep(0.02)
        latencies.append(shown / 1000 - ended)
        driver.execute_script("delete window.seen[arguments[0]];", key)
        engine.client().api.start(web.id)
        time.sleep(1.5)  # up again (and its state on the page) before the next round
    print(f"latency from `docker stop` (the container's end) to the page, {args.rounds} rounds: "
          f"median {statistics.median(latencies):.3f} s, min {min(latencies):.3f}, max {max(latencies):.3f}")

    for _ in range(args.environments - 1):
        names.append(StackManager("mini", environ=env).acquire_environment()[0])
    time.sleep(3)  # the board has seen them all
    shown = len(driver.find_elements("css selector", "article[data-env]"))
    before, started = cpu_seconds(dashboard.pid), time.monotonic()
    time.sleep(args.window)
    used, elapsed = cpu_seconds(dashboard.pid) - before, time.monotonic() - started
    print(f"{len(names)} environments ({shown} on the page), the page open for {elapsed:.0f} s: the dashboard used "
          f"{used:.2f} s of CPU, {100 * used / elapsed:.2f}% of one core")
finally:
    if driver is not None:
        driver.quit()
    dashboard.terminate()
    dashboard.wait(timeout=10)
    for name in names:
        StackManager("mini", environ=env).release_environment(name)
    shutil.rmtree(SCRATCH, ignore_errors=True)
