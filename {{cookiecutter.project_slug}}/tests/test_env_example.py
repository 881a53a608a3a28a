"""`.env.example` is where a new team member learns what can be set: it must name it all."""

from pathlib import Path

from {{ cookiecutter.__package_name }}.core.config import Settings

ENV_EXAMPLE = Path(__file__).parents[1] / ".env.example"


def test_the_env_example_names_every_setting() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()
    named = {line.lstrip("# ").split("=", 1)[0] for line in lines if "=" in line}

    missing = sorted(name.upper() for name in Settings.model_fields if name.upper() not in named)

    assert not missing, f"add these settings to .env.example: {missing}"
