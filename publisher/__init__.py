"""LLM catalogue: publishes a static snapshot of the `llm_scores` table and answers filtered reads."""

__version__ = "1.0.0"
