"""The orchestrators an environment runs on, behind one protocol (base.py)."""
