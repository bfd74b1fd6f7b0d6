"""The freshness canary: its own deployable (a scheduled Lambda) and `make canary` locally."""
