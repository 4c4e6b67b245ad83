"""Liveness and readiness."""

from backend.adapters.mqtt import BusUnavailable


async def test_health_and_ready(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": True, "broker": True}


async def test_ready_is_503_when_the_broker_is_gone(client, app_rt):
    await app_rt.bus.stop()
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["error"]["details"] == {"status": "unavailable", "database": True, "broker": False}
    try:
        await app_rt.bus.publish("keng/v1/x", b"1")
    except BusUnavailable:
        pass
    else:
        raise AssertionError("publishing on a stopped bus must fail")
