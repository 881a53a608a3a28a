"""`/docs` works without the internet: every file the page loads is the service's own."""

import re

from httpx import AsyncClient

# URLs in the page: attributes, and the options of Swagger UI's start-up script.
URL = re.compile(r'(?:src|href)="([^"]+)"|[\'"]((?:https?:)?//[^\'"]+)[\'"]')


async def test_the_docs_page_names_no_other_host(client: AsyncClient) -> None:
    page = await client.get("/docs")
    urls = {attribute or absolute for attribute, absolute in URL.findall(page.text)}
    files = [await client.get(url) for url in sorted(urls)]

    assert page.status_code == 200
    assert len(urls) >= 3, f"the script, its style sheet and the icon at least: {urls}"
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert [response.status_code for response in files] == [200] * len(files)
    assert "http://" not in page.text
    assert "https://" not in page.text
