"""Temporal workflows, one per workflow type (deterministic code only)."""
