"""A generated service's `/docs` renders in a browser that can reach nothing but the service.

Chromium, headless, with every host but loopback unresolvable and every request
sent to a proxy that does not exist: a page that loaded Swagger UI from a CDN would
stay blank ("SwaggerUIBundle is not defined"). Once per `auth` choice, since the
page shows the security schemes; the other options do not touch it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.project import Project

pytestmark = pytest.mark.requires(
    database="sqlite",
    use_redis=False,
    use_celery=False,
    use_gzip=True,
    use_cors=True,
    use_docker=True,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OFFLINE = [
    # Loopback bypasses a proxy in Chromium; everything else goes to a port nobody serves.
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def test_the_docs_render_with_the_network_cut_off(project: Project, tmp_path: Path) -> None:
    assert CHROMIUM, "the test needs Chromium (apt-get install -y chromium; .ci/run installs it)"
    project.tool("alembic", "upgrade", "head")
    with project.serving() as base_url:
        rendered = subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tmp_path}",
                *OFFLINE,
                # Time for the script to fetch the schema and draw every operation.
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"{base_url}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert rendered.returncode == 0, rendered.stderr[-2000:]
    assert 'class="opblock-summary-path"' in rendered.stdout, rendered.stdout[-2000:]
    assert "/api/v1/items/{item_id}" in rendered.stdout
