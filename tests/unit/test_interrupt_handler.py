"""The CLI's signal handler: an interrupt that lands inside an import is delivered after it.

Run in a child Python, which signals itself: the handler is the one `netra-stack` installs."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

from netra_stack.cli.main import _interrupt

CHILD = textwrap.dedent("""
    import signal, sys, time
    from netra_stack.cli.main import _interrupt

    signal.signal(signal.{sig}, _interrupt)
    sys.path.insert(0, sys.argv[1])
    try:
        import interrupted_module  # signals this process halfway through its own body
        print("import finished", flush=True)
        time.sleep(30)
        print("never interrupted", flush=True)
    except KeyboardInterrupt:
        print("interrupted after the import", flush=True)
""")

MODULE = textwrap.dedent("""
    import os, signal, time
    os.kill(os.getpid(), signal.{sig})
    time.sleep(0.2)  # the handler runs here, inside the import
    print("module body finished", flush=True)
""")


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_an_interrupt_inside_an_import_waits_for_the_import(tmp_path, sig):
    (tmp_path / "interrupted_module.py").write_text(MODULE.format(sig=sig))
    child = subprocess.run([sys.executable, "-c", CHILD.format(sig=sig), str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert child.stdout.splitlines() == ["module body finished", "import finished", "interrupted after the import"], \
        child.stderr
    assert "Traceback" not in child.stderr and child.returncode == 0


def test_an_interrupt_outside_an_import_is_a_keyboard_interrupt():
    with pytest.raises(KeyboardInterrupt):
        _interrupt(signal.SIGINT, sys._getframe())
