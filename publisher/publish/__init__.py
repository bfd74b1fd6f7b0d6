"""Lambda entry points: thin adapters from events to the publisher and read cores."""
