"""Agents: role templates, LangGraph graphs and the LLM client."""
