"""The HTTP API: FastAPI app, routers, schemas."""
