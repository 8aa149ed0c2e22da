"""One Temporal workflow per workflow type (`workflows/<type>.py`, named in Temporal by its type), all built on
`TeamRun` (`runner.py`: the run's life), which is assembled from the kinds of step (`writing.py`, `decisions.py`,
`code_loop.py`) and what they share (`steps.py`, `run_state.py`, `mirrors.py`, `activity_calls.py`); the templates
they follow (`templates.py`, and `legacy.py` for runs started before the code loop) and the types they exchange
(`types.py`).

Kept free of imports, so activities can use `workflows.types` without loading the workflow classes."""
