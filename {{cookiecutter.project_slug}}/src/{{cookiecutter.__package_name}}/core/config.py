"""Settings from the environment (and `.env`); `.env.example` lists every one."""

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_name: str = {{ cookiecutter.project_name | py_string }}
    environment: Literal["development", "test", "production"] = "development"

{% if cookiecutter.database == "postgres" %}
    database_url: str = "postgresql+asyncpg://postgres@localhost:5432/{{ cookiecutter.__package_name }}"
    # Connections kept open per worker process, and how many more a burst may open.
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    # A request waiting longer than this for a connection fails instead of queueing forever.
    database_pool_timeout: float = Field(default=10.0, gt=0)
{% else %}
    database_url: str = "sqlite+aiosqlite:///./{{ cookiecutter.__package_name }}.db"
    # How long a writer waits for SQLite's lock before giving up.
    database_busy_timeout_ms: int = Field(default=5000, ge=0)
{% endif %}
    database_echo: bool = False

    # Upper bound for `limit` on list endpoints.
    page_size_max: int = Field(default=100, ge=1)


@lru_cache
def get_settings() -> Settings:
    return Settings()
