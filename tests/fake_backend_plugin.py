"""Registers the in-memory backend of tests/fake_backend.py as "fake": a profile with
`backend = "fake"` and this file in its `plugins` runs on the world `tests.fake_backend.install`ed."""

from netra_stack import hookimpl
from tests.fake_backend import factory


@hookimpl
def netra_backends():
    return {"fake": factory}
