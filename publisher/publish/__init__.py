"""The publisher Lambda: its handler and the logic it runs (state, rendering, the store, the change feed)."""
