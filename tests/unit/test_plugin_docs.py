"""docs/plugins.md is the plugin author's reference: it must hold the reference generated from the
hookspecs, every hook must be documented, and every hook must be exercised by some test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from netra_stack import hookspecs
from netra_stack.plugin_reference import BEGIN, END, render
from netra_stack.plugins import hook_names
from tests.helpers import REPO

DOCS = REPO / "docs" / "plugins.md"


def test_reference_in_docs_is_current():
    text = DOCS.read_text()
    assert BEGIN in text and END in text
    documented = text[text.index(BEGIN):text.index(END) + len(END)] + "\n"
    assert documented == render(), "docs/plugins.md is stale: regenerate with `python -m netra_stack.plugin_reference`"


@pytest.mark.parametrize("hook", hook_names())
def test_hook_is_documented(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 80, f"{hook} has no real docstring"
    assert "Called" in doc or "called" in doc, f"{hook}: say when it is called"
    if "first-result" not in doc:  # decisions must say what returning means
        assert "Return" in doc or "return" in doc, f"{hook}: say what the return value means"


@pytest.mark.parametrize("hook", hook_names())
def test_hook_is_tested(hook):
    this = Path(__file__).resolve()
    sources = [p for p in (REPO / "tests").rglob("*.py") if p.resolve() != this]
    implemented = [p for p in sources if f"def {hook}(" in p.read_text()]
    assert implemented, f"no test plugin implements {hook}"
