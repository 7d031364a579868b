"""`netra-stack manifests`: the Kubernetes objects of a profile, for review or for another tool."""

from __future__ import annotations

import sys

import click

from netra_stack.cli.options import command, compose_profile_option, manager, profile_option


@command("manifests")
@profile_option
@compose_profile_option
@click.option("--reveal-secrets", is_flag=True, help="Do not mask passwords, tokens and the data of Secrets.")
@click.option("--access", is_flag=True, help="Print the ClusterRole with the least access netra-stack needs, instead.")
def manifests(profile: str | None, compose_profiles, reveal_secrets: bool, access: bool) -> None:
    """Print the Kubernetes objects (YAML, one document each) of a new environment of the profile:
    its namespace, Deployments, Jobs, Services, ConfigMaps, Secrets and claims. What does not map
    as it is comes first, as comments."""
    import yaml

    from netra_stack.backends.kubernetes.manifests import access_role, masked, render_manifests

    if access:
        sys.stdout.write("# what netra-stack needs in a cluster; bind it to its user with a ClusterRoleBinding\n"
                         + yaml.safe_dump(access_role(), sort_keys=False))
        return
    from netra_stack.model.redact import Redactor
    from netra_stack.planning.plan import environment_name

    ctx = manager(profile, compose_profiles=compose_profiles).ctx
    plan = ctx.plan(name=environment_name(ctx.profile, ctx.environ, env_id="manifests"))
    plan.reservations.release()  # nothing will bind them
    objects, notes = render_manifests(plan, ctx.base_model())
    head = (f"# the Kubernetes objects of a new environment of profile {ctx.profile.name} (namespace {plan.name}); "
            "its NodePorts are examples, chosen again at `up`\n")
    text = "".join(f"# {note}\n" for note in notes) + yaml.safe_dump_all(objects if reveal_secrets else masked(objects),
                                                                           sort_keys=False)
    sys.stdout.write(head + (text if reveal_secrets else Redactor.for_plan(plan).redact(text)))
