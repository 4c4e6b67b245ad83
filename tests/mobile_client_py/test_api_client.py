"""The reference API client drives a notice through approval and recovers from an expired token."""

import pytest

from backend.adapters.clock import FakeClock
from backend.core.accounts import admin as staff_admin
from backend.core.accounts.permissions import Role
from backend.core.accounts.schemas import GrantIn
from mobile_client_py.api import ApiError, KengClient
from tests.factories import notice_body


@pytest.fixture
def clock():
    return FakeClock()


async def test_client_lifecycle_and_silent_refresh(client, factory, app_rt, clock):
    await factory.tree()
    await staff_admin.ensure_staff(
        app_rt, "canbo", "mat-khau-du-dai", "Cán bộ", [GrantIn(role=Role.COMMUNE_OFFICIAL, area_code="38001")]
    )
    await staff_admin.ensure_staff(
        app_rt,
        "lanhdao",
        "mat-khau-du-dai",
        "Lãnh đạo",
        [GrantIn(role=Role.COMMUNE_LEADER, area_code="38001")],
    )
    author, leader = KengClient(client), KengClient(client)
    await author.login("canbo", "mat-khau-du-dai")
    await leader.login("lanhdao", "mat-khau-du-dai")
    notice = await author.create_notice(notice_body())
    await author.step(notice["id"], "submit")
    clock.advance(minutes=30)  # access tokens expired; the client refreshes once and retries
    await leader.step(notice["id"], "approve")
    published = await leader.step(notice["id"], "publish")
    assert published["status"] == "published"
    with pytest.raises(ApiError) as error:
        await leader.step(notice["id"], "publish")
    assert error.value.status == 409
    assert error.value.code == "invalid_state"
    assert [n["id"] for n in await author.notices(status="published")] == [notice["id"]]
