"""Built-in build-cache policy: the profile's build_cache (the seed's no_cache_app_code)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from ..policy import BuildDecision


@hookimpl(trylast=True)
def netra_build_decision(service, build, plan):
    if plan.env.get("USE_PRODUCTION_IMAGES", "").lower() in ("1", "true", "yes"):
        return BuildDecision(build=False, reason="USE_PRODUCTION_IMAGES: using the existing image")
    if plan.profile.build_cache == "no-cache":
        return BuildDecision(build=True, no_cache=True, reason="build_cache = no-cache: never stale")
    return BuildDecision(build=True, no_cache=False, reason="build_cache = layer-cache")
