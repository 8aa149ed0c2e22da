"""One Temporal workflow per workflow type (`workflows/<type>.py`, named in Temporal by its type), the shared step
runner (`runner.py`), the templates they follow (`templates.py`) and the types they exchange (`types.py`).

Kept free of imports, so activities can use `workflows.types` without loading the workflow classes."""
