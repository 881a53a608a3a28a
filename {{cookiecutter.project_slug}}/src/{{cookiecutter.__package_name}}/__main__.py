"""`python -m {{ cookiecutter.__package_name }}` (what `make run` runs): the development server.

It reloads on every change and listens where the settings say (PORT, and HOST,
from the environment or `.env`, as for the production command); on 127.0.0.1
unless HOST is set, so a laptop's development server is not on its network.
"""

import uvicorn

from .core.config import get_settings


def main() -> None:
    settings = get_settings()
    host = settings.host if "host" in settings.model_fields_set else "127.0.0.1"
    uvicorn.run(
        f"{__package__}.main:app",
        host=host,
        port=settings.port,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        reload=True,
    )


if __name__ == "__main__":
    main()
