"""`netra-stack dashboard`: a local web page of every environment on the engine. board.py keeps
what the page shows up to date from the engine's events; app.py serves the page (static/), the
snapshots as server-sent events, the logs and the actions, behind the token."""
