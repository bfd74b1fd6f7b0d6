"""The freshness canary Lambda: its probe and its handler (`make canary` runs the probe: ops/canary.py)."""
