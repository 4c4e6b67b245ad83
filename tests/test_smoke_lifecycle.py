"""A notice from draft to published over HTTP, on every backend."""

from backend.core.accounts.permissions import Role
from tests.factories import notice_body


async def test_notice_goes_from_draft_to_published(client, factory):
    await factory.tree()
    author = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    leader = await factory.user((Role.COMMUNE_LEADER, "38001"))

    created = await client.post("/api/v1/notices", json=notice_body(), headers=author.headers)
    assert created.status_code == 201, created.text
    notice = created.json()
    assert notice["status"] == "draft"
    assert notice["owner_area"] == "38001"

    for step, user, status in (
        ("submit", author, "submitted"),
        ("approve", leader, "approved"),
        ("publish", leader, "published"),
    ):
        response = await client.post(f"/api/v1/notices/{notice['id']}/{step}", json={}, headers=user.headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status
