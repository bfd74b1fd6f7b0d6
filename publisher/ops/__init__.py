"""Operator commands (`python -m publisher ...`): rebuild, dead-letter queue, restore, stream trigger, seed."""
