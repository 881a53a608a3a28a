from fastapi import FastAPI

{% if cookiecutter.use_celery %}
from ..jobs import routes as jobs
{% endif %}
from .errors import API_ERRORS
from .routes import categories, items

# Included straight into the app, the hottest first: every level of router nesting,
# and every router tried before the one that matches, is work on each request.
RESOURCE_ROUTERS = (
    items.router,
    categories.router,
{% if cookiecutter.use_celery %}
    jobs.router,
{% endif %}
)


def include_api(app: FastAPI) -> None:
    for router in RESOURCE_ROUTERS:
        app.include_router(router, responses=API_ERRORS)
