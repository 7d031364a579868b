"""Plugin loading and calling rules, without an engine: order, names, refusals, blame."""

from __future__ import annotations

import types

import pytest
from conftest import MINIMAL

from netra_stack import hookimpl
from netra_stack.model.errors import ExitCode, PluginError
from netra_stack.plugins.registry import Plugins


def module(name: str, **functions) -> types.ModuleType:
    found = types.ModuleType(name)
    for hook, function in functions.items():
        function.__name__ = hook
        setattr(found, hook, function)
    return found


def test_builtins_are_trylast_and_asked_last(load):
    plugins = Plugins(load(MINIMAL))
    impls = plugins.implementations("netra_allocate_port")
    assert impls[-1].plugin_name == "netra.ports" and impls[-1].trylast
    assert plugins.origins["netra.ports"] == "built-in (netra_stack.plugins.builtin.ports)"


def test_a_plugin_is_asked_before_the_builtin_and_none_passes_on(load):
    plugins = Plugins(load(MINIMAL))
    plugins.manager.register(module("mine", netra_allocate_port=hookimpl(lambda request: None)), "mine")
    plugins.manager.register(module("first", netra_allocate_port=hookimpl(lambda request: 4242)), "first")
    assert plugins.decide("netra_allocate_port", int, request=None, profile=None, taken=set()) == 4242
    assert plugins.deciders["netra_allocate_port"] == "first"


def test_wrong_type_names_plugin_hook_and_value(load):
    plugins = Plugins(load(MINIMAL))
    plugins.manager.register(module("bad", netra_allocate_port=hookimpl(lambda request: True)), "bad")
    with pytest.raises(PluginError) as error:
        plugins.decide("netra_allocate_port", int, request=None, profile=None, taken=set())
    assert "plugin 'bad': netra_allocate_port returned True: expected int or None" in str(error.value)
    assert error.value.exit_code == ExitCode.PLUGIN_ERROR


def test_raising_plugin_is_named(load):
    def boom(environment):
        raise OSError("disk full")

    plugins = Plugins(load(MINIMAL))
    plugins.manager.register(module("noisy", netra_before_down=hookimpl(boom)), "noisy")
    with pytest.raises(PluginError, match="plugin 'noisy': netra_before_down raised OSError: disk full"):
        plugins.notify("netra_before_down", environment="x")


def test_disable_plugins_blocks_a_builtin_and_rejects_unknown_names(load):
    plugins = Plugins(load(MINIMAL + 'disable_plugins = ["netra.health"]\n'))
    assert "netra.health" not in [i.plugin_name for i in plugins.implementations("netra_check_health")]
    assert plugins.origins["netra.health"].endswith("[disabled]")
    with pytest.raises(PluginError, match="disable_plugins names 'netra.helth', which is no plugin"):
        Plugins(load(MINIMAL + 'disable_plugins = ["netra.helth"]\n'))


def test_the_same_module_twice_is_refused(load):
    with pytest.raises(PluginError, match="already loaded as 'netra.ports'"):
        Plugins(load(MINIMAL + 'plugins = ["netra_stack.plugins.builtin.ports"]\n'))


def test_a_missing_module_names_the_profile(load):
    with pytest.raises(PluginError, match=r"plugin 'no_such_module_xyz' of profile p .*cannot import it"):
        Plugins(load(MINIMAL + 'plugins = ["no_such_module_xyz"]\n'))


def test_wrappers_are_refused(load, tmp_path):
    plugin = tmp_path / "wrap.py"
    plugin.write_text("from netra_stack import hookimpl\n\n@hookimpl(wrapper=True)\n"
                      "def netra_before_up(plan):\n    return (yield)\n")
    with pytest.raises(PluginError, match="netra_before_up is a wrapper"):
        Plugins(load(MINIMAL + f'plugins = ["{plugin}"]\n'))


def test_netra_trace_plugins_logs_each_call_with_its_plugin_and_result_secrets_masked(load, monkeypatch, capsys):
    monkeypatch.setenv("NETRA_TRACE_PLUGINS", "on")
    monkeypatch.setenv("DB_PASSWORD", "hunter2-secret")
    plugins = Plugins(load(MINIMAL))
    plugins.manager.register(module("leaky", netra_on_failure=hookimpl(
        lambda environment: "password hunter2-secret in the logs")), "leaky")
    plugins.notify("netra_on_failure", environment="e", error=None, report=None)
    err = capsys.readouterr().err
    assert "netra-stack: trace: netra_on_failure by leaky: 'password *** in the logs'" in err
    assert "hunter2-secret" not in err
    monkeypatch.setenv("NETRA_TRACE_PLUGINS", "0")
    Plugins(load(MINIMAL)).notify("netra_on_failure", environment="e", error=None, report=None)
    assert capsys.readouterr().err == ""
