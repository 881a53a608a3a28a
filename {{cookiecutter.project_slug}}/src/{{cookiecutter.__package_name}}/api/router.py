from fastapi import APIRouter

{% if cookiecutter.use_celery %}
from .routes import categories, category_stats, items, tasks
{% else %}
from .routes import categories, items
{% endif %}

api_router = APIRouter()
api_router.include_router(items.router)
api_router.include_router(categories.router)
{% if cookiecutter.use_celery %}
api_router.include_router(category_stats.router)
api_router.include_router(tasks.router)
{% endif %}
