"""Jira and Confluence clients, wrapped for idempotent use."""
