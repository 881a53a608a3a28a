from fastapi import APIRouter

{% if cookiecutter.use_celery %}
from ..jobs import routes as jobs
{% endif %}
from .errors import API_ERRORS
from .routes import categories, items

api_router = APIRouter(responses=API_ERRORS)
api_router.include_router(items.router)
api_router.include_router(categories.router)
{% if cookiecutter.use_celery %}
api_router.include_router(jobs.router)
{% endif %}
