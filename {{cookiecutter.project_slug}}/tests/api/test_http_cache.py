"""Item reads carry a weak ETag; a client that has the current version gets a 304."""

from httpx import AsyncClient

ITEMS = "/api/v1/items"


async def test_read_has_a_weak_etag_and_cache_control(client: AsyncClient) -> None:
    """Weak: the ETag names the content, which compression carries as other bytes (RFC 9110 §8.8.3)."""
    item = (await client.post(ITEMS, json={"name": "Lamp", "price": 3})).json()

    response = await client.get(f"{ITEMS}/{item['id']}")

    assert response.headers["etag"].startswith('W/"')
    assert response.headers["cache-control"] == "no-cache"


async def test_matching_if_none_match_is_304_without_a_body(client: AsyncClient) -> None:
    item = (await client.post(ITEMS, json={"name": "Lamp", "price": 3})).json()
    etag = (await client.get(f"{ITEMS}/{item['id']}")).headers["etag"]

    response = await client.get(f"{ITEMS}/{item['id']}", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag


async def test_a_write_changes_the_etag(client: AsyncClient) -> None:
    item = (await client.post(ITEMS, json={"name": "Lamp", "price": 3})).json()
    etag = (await client.get(f"{ITEMS}/{item['id']}")).headers["etag"]
    await client.patch(f"{ITEMS}/{item['id']}", json={"price": 4})

    response = await client.get(f"{ITEMS}/{item['id']}", headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert response.json()["price"] == "4.00"
    assert response.headers["etag"] != etag


async def test_lists_are_conditional_too(client: AsyncClient) -> None:
    await client.post(ITEMS, json={"name": "Lamp", "price": 3})
    etag = (await client.get(ITEMS)).headers["etag"]

    unchanged = await client.get(ITEMS, headers={"If-None-Match": f'"other", {etag}'})
    await client.post(ITEMS, json={"name": "Desk", "price": 30})
    changed = await client.get(ITEMS, headers={"If-None-Match": etag})

    assert unchanged.status_code == 304
    assert changed.status_code == 200


async def test_if_none_match_compares_weakly_and_takes_a_wildcard(client: AsyncClient) -> None:
    """As RFC 9110 says for If-None-Match: `"x"` matches `W/"x"`, and `*` any current version."""
    item = (await client.post(ITEMS, json={"name": "Lamp", "price": 3})).json()
    url = f"{ITEMS}/{item['id']}"
    etag = (await client.get(url)).headers["etag"]

    for sent in (etag.removeprefix("W/"), "*", f' "other" ,  {etag} '):
        assert (await client.get(url, headers={"If-None-Match": sent})).status_code == 304, sent
    assert (await client.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
