"""The generated service without its middleware: the resource pattern's routes alone.

The app is the project's own (`create_app()`: the routers, their dependencies, the
lifespan and the error handlers); only `app.user_middleware` is emptied before the
app serves anything. Set against the service, the difference is what its middleware
stack costs a read; set against the raw reference, what the pattern's route costs
around the query: together they say where a read's time goes.
"""

import os
from importlib import import_module

app = import_module(f"{os.environ['BENCH_PACKAGE']}.main").create_app()
app.user_middleware = []
