"""`netra-stack profiles`: the profiles found."""

from __future__ import annotations

from netra_stack.cli.options import command, json_option, terminal


@command("profiles")
@json_option
def profiles() -> None:
    """List the profiles found (NETRA_STACK_PROFILE_PATH, else the nearest profiles/ directory)."""
    import tomllib

    from netra_stack.cli.views import profiles_view
    from netra_stack.model.profiles import available_profiles, load_profile

    rows = []
    for name, path in available_profiles().items():
        profile = load_profile(str(path))
        with open(path, "rb") as handle:
            extends = tomllib.load(handle).get("extends")
        rows.append({"name": name, "environment": profile.environment, "extends": extends,
                     "compose_files": profile.compose_files, "path": str(path), "description": profile.description})
    shown = terminal()
    shown.data(rows) if shown.as_json else shown.draw(profiles_view(rows))
