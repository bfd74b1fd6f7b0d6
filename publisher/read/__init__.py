"""The read Lambda: its handler and what it runs (query parsing, the indexed catalogue, the source, the routes)."""
