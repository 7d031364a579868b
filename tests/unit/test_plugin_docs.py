"""docs/plugins.md is the plugin author's reference: it must hold the reference generated from the
hookspecs, every hook must be documented, and every hook must be called by some test through a
loaded test plugin (checked when the whole suite runs)."""

from __future__ import annotations

import inspect

import pytest

from netra_stack.plugins import hookspecs
from netra_stack.plugins.reference import BEGIN, END, fields, render
from netra_stack.plugins.registry import hook_names, is_decision
from tests.helpers import REPO

DOCS = REPO / "docs" / "plugins.md"


def test_reference_in_docs_is_current():
    text = DOCS.read_text()
    assert BEGIN in text and END in text
    documented = text[text.index(BEGIN):text.index(END) + len(END)] + "\n"
    assert documented == render(), "docs/plugins.md is stale: regenerate with `python -m netra_stack.plugins.reference`"


@pytest.mark.parametrize("hook", hook_names())
def test_hook_is_documented(hook):
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert len(doc) > 80, f"{hook} has no real docstring"
    assert "Called" in doc or "called" in doc, f"{hook}: say when it is called"
    if is_decision(hook):  # decisions must say what returning means, and that None is no opinion
        assert "Return" in doc or "return" in doc, f"{hook}: say what the return value means"
        assert "None" in doc, f"{hook}: say what returning None means"
    else:  # every implementation of a collected hook runs: say so, and what becomes of its results
        assert "Collected" in doc or "collected" in doc, f"{hook}: say that it is collected"


@pytest.mark.parametrize("hook", hook_names())
def test_every_argument_and_the_result_have_a_field(hook):
    function = getattr(hookspecs, hook)
    _, params, returns = fields(function.__doc__ or "")
    assert list(params) == list(inspect.signature(function).parameters), f"{hook}: one :param NAME: per argument, in order"
    assert all(len(text) > 10 for text in params.values()), f"{hook}: say what each argument holds"
    assert returns, f"{hook}: say what it returns in a :returns: field"


@pytest.mark.parametrize("hook", hook_names())
def test_hook_is_tested(hook, hook_calls):
    """Some test calls the hook through a loaded test plugin (any plugin that is not a built-in:
    tests/fixtures/mini/plugins, tests/fixtures/entrypoint_plugin, a plugin a unit test writes),
    and the implementation returns: for a decision hook, with an answer (not None). Recorded by
    tests/conftest.py while the whole suite runs; this test runs after all the others."""
    if hook_calls is None:
        pytest.skip("checked only when the whole suite runs (tests/unit and tests/integration, nothing "
                    "deselected, no xdist): most hooks are called only by the real-engine tests")
    calls = hook_calls.get(hook, [])
    wanted = {"answered"} if is_decision(hook) else {"answered", "none"}
    assert any(c["outcome"] in wanted for c in calls), (
        f"no test calls {hook} through a loaded test plugin"
        + (" that answers (returns something other than None)" if is_decision(hook) else " that returns")
        + f"; calls seen: {sorted({(c['plugin'], c['outcome']) for c in calls}) or 'none'}")


def test_every_hook_belongs_to_one_stage():
    defined = sorted(n for n, f in vars(hookspecs).items() if n.startswith("netra_") and callable(f))
    assert sorted(hook_names()) == defined and len(set(hook_names())) == len(defined)
