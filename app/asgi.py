"""The module uvicorn imports: `uvicorn app.asgi:app` (and every worker of `econfacts serve`)."""

import gc

# Start-up allocates a few hundred thousand objects (schemas, routes, country tables) that
# live as long as the process, and next to no garbage (about a thousand objects). With the
# collector on, its passes over that growing heap were a fifth of the start-up time; so it
# stays off while the app is built, and what was built is frozen (kept out of every later
# pass, as the app's lifespan does for whatever start-up adds after this).
gc.disable()
try:
    from app.main import create_app

    app = create_app()
finally:
    gc.freeze()
    gc.enable()
