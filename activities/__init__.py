"""Activities: every side effect of a run (agent turns, database writes, storage, Jira, Confluence)."""
