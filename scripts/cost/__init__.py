"""The cost model: prices.py, inputs.py and items.py (line items as data); the CLI is scripts/cost_model.py."""
