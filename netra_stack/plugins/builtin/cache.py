"""Built-in build-cache policies, per service (`[services.X] build_cache`) or per profile:

- content-hash (the default): build only when the build's fingerprint (see fingerprint.py)
  differs from the one on the existing image, and then with Docker's layer cache;
- no-cache: always build, without the layer cache (the seed's no_cache_app_code=True);
- layer-cache: always build, with the layer cache (no_cache_app_code=False).

Every build is labelled with its fingerprint, so switching policies never costs a needless
build. USE_PRODUCTION_IMAGES=true builds nothing: production images are used as they are.
"""

from __future__ import annotations

from netra_stack.model import labels as L
from netra_stack.planning.fingerprint import NotFingerprintable, fingerprint
from netra_stack.plugins.hookspecs import hookimpl
from netra_stack.model.decisions import BuildDecision


def _short(value: str) -> str:
    return value.removeprefix("sha256:")[:12]


def decide(policy: str, current: str | None, image: str, existing: dict[str, str] | None,
           unhashable: str = "") -> BuildDecision:
    """The decision for one service: its policy, its build's fingerprint (None: cannot be
    computed, `unhashable` says why), the image it builds, and that image's labels (None: no
    such image)."""
    labels = {L.FINGERPRINT: current} if current else {}
    if policy == "no-cache":
        return BuildDecision(True, no_cache=True, reason="build_cache = no-cache", labels=labels)
    if policy == "layer-cache":
        return BuildDecision(True, reason="build_cache = layer-cache", labels=labels)
    if current is None:
        return BuildDecision(True, reason=f"{unhashable or 'no fingerprint'}: built with the layer cache")
    if existing is None:
        return BuildDecision(True, reason=f"no image {image}", labels=labels)
    previous = existing.get(L.FINGERPRINT)
    if previous == current:
        return BuildDecision(False, reason=f"unchanged, fingerprint {_short(current)}", labels=labels)
    if not previous:
        return BuildDecision(True, reason=f"image {image} carries no fingerprint", labels=labels)
    return BuildDecision(True, reason=f"fingerprint changed, {_short(previous)} -> {_short(current)}", labels=labels)


@hookimpl(trylast=True)
def netra_build_decision(service, build, plan, backend):
    if plan.uses_production_images:
        return BuildDecision(build=False, reason="USE_PRODUCTION_IMAGES: using the existing image")
    image = plan.images.get(service, "")
    policy = plan.profile.build_cache_of(service)
    current, unhashable = None, ""
    try:
        current = fingerprint(build, lambda reference: getattr(backend.image(reference), "id", None))
    except NotFingerprintable as exc:
        unhashable = str(exc)
    found = backend.image(image) if image and policy == "content-hash" else None
    return decide(policy, current, image, found.labels if found else None, unhashable)
