from fastapi import APIRouter

from .routes import categories, items

api_router = APIRouter()
api_router.include_router(items.router)
api_router.include_router(categories.router)
