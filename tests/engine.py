"""The engine the real-engine tests look at, to see what netra-stack did (never to make it do
anything). A module of its own, so that the unit tests never import the Docker SDK."""

import os

from netra_stack.backends.compose.engine import Engine

engine = Engine(os.environ)
