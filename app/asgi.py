"""The module uvicorn imports: `uvicorn app.asgi:app` (and every worker of `econfacts serve`)."""

from app.main import create_app

app = create_app()
