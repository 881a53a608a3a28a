"""The generated service's own `/health` route in a bare FastAPI app: no middleware, no lifespan.

Set against the generated app's `/health`, the difference is what the service's
middleware stack and app configuration cost on every request.
"""

import os
from importlib import import_module

from fastapi import FastAPI

health = import_module(f"{os.environ['BENCH_PACKAGE']}.api.routes.health")

app = FastAPI()
app.include_router(health.router)
