"""The generated service with `/health` as a plain route instead of its probe middleware.

The app is the project's own (`create_app()`: every middleware, the routers,
the lifespan); only `middleware.probes.ProbeMiddleware` is taken out of
`app.user_middleware` and a `/health` route answering the same body is added,
before the app serves anything. Set against the service's `/health`, the
difference is what answering the probe before routing saves.
"""

import os
from importlib import import_module

package = os.environ["BENCH_PACKAGE"]
create_app = import_module(f"{package}.main").create_app
ProbeMiddleware = import_module(f"{package}.middleware.probes").ProbeMiddleware

app = create_app()
app.user_middleware = [entry for entry in app.user_middleware if entry.cls is not ProbeMiddleware]


@app.get("/health")
async def health():  # no response model, as FastAPI hello
    return {"status": "ok"}
