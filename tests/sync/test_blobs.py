"""The blob store: resumable, verified, stored once per hash, downloadable by range."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.core.accounts.permissions import Role
from backend.sync import get_blob
from backend.sync.tables import SyncBlob
from mobile_client_py.blobs import BlobQueue
from tests.sync.helpers import phone

CHUNK = 16 * 1024


def payload(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


async def upload(client, official_user, tmp_path, data: bytes, plan=(), name="p"):
    path = tmp_path / f"{name}.bin"
    path.write_bytes(data)
    official = phone(client.app, tmp_path / f"{name}.db", official_user, plan)
    queue = BlobQueue(official, chunk=CHUNK)
    sha = queue.add(path, "audio/ogg")
    report = await queue.upload_all()
    return sha, report, official


async def test_upload_in_chunks_then_download_whole_and_by_range(client, factory, tmp_path):
    await factory.tree()
    user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    data = payload(5 * CHUNK + 123)
    sha, report, _ = await upload(client, user, tmp_path, data)
    assert report.completed == 1 and report.bytes_sent == len(data) and report.cuts == 0
    info = await get_blob(client.app.state.rt, sha)
    assert info is not None and info.complete and info.size == len(data) and info.mime == "audio/ogg"
    assert info.path.read_bytes() == data

    whole = await client.get(f"/api/v1/sync/blobs/{sha}/content", headers=user.headers)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    part = await client.get(
        f"/api/v1/sync/blobs/{sha}/content", headers={**user.headers, "Range": "bytes=100-199"}
    )
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = await client.get(
        f"/api/v1/sync/blobs/{sha}/content", headers={**user.headers, "Range": "bytes=-10"}
    )
    assert tail.status_code == 206 and tail.content == data[-10:]
    beyond = await client.get(
        f"/api/v1/sync/blobs/{sha}/content", headers={**user.headers, "Range": f"bytes={len(data)}-"}
    )
    assert beyond.status_code == 416 and beyond.json()["error"]["code"] == "range_not_satisfiable"


async def test_the_same_file_is_stored_once_and_not_uploaded_again(client, factory, tmp_path):
    await factory.tree()
    one = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    two = await factory.user((Role.COMMUNE_OFFICIAL, "38002"))
    data = payload(3 * CHUNK)
    sha, _, _ = await upload(client, one, tmp_path, data, name="one")
    again, report, _ = await upload(client, two, tmp_path, data, name="two")
    assert again == sha
    assert report.bytes_sent == 0 and report.completed == 1
    assert await SyncBlob.count() == 1
    files = [p for p in (client.app.state.rt.settings.blobs_dir).rglob("*") if p.is_file()]
    assert [p.name for p in files] == [sha]


@pytest.mark.parametrize("corrupt_at", [0, CHUNK + 5])
async def test_corrupted_bytes_are_refused_and_never_served(client, factory, tmp_path, corrupt_at):
    await factory.tree()
    user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    data = payload(3 * CHUNK)
    # The second request is the first chunk (after the declaration); flip one of its bytes.
    sha, report, _ = await upload(client, user, tmp_path, data, plan=["ok", ("corrupt", corrupt_at)])
    assert report.corrupt_chunks == 1 and report.completed == 1
    info = await get_blob(client.app.state.rt, sha)
    assert info is not None and info.complete
    assert hashlib.sha256(info.path.read_bytes()).hexdigest() == sha


async def test_a_file_whose_bytes_do_not_match_its_hash_is_discarded(client, factory, tmp_path):
    """Without chunk checksums, the whole-file check at the end catches it: nothing is kept."""
    await factory.tree()
    user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    data = payload(CHUNK)
    sha = hashlib.sha256(b"something else").hexdigest()
    declared = await client.post(
        "/api/v1/sync/blobs",
        json={"sha256": sha, "size": len(data), "mime": "image/jpeg"},
        headers=user.headers,
    )
    assert declared.status_code == 201 and declared.json()["offset"] == 0
    answer = await client.patch(
        f"/api/v1/sync/blobs/{sha}", content=data, headers={**user.headers, "Upload-Offset": "0"}
    )
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "blob_corrupt"
    info = await get_blob(client.app.state.rt, sha)
    assert info is not None and not info.complete and info.received == 0
    download = await client.get(f"/api/v1/sync/blobs/{sha}/content", headers=user.headers)
    assert download.status_code == 409 and download.json()["error"]["code"] == "blob_pending"


async def test_wrong_offset_is_a_conflict_naming_the_server_offset(client, factory, tmp_path):
    await factory.tree()
    user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
    data = payload(2 * CHUNK)
    sha = hashlib.sha256(data).hexdigest()
    await client.post("/api/v1/sync/blobs", json={"sha256": sha, "size": len(data)}, headers=user.headers)
    first = await client.patch(
        f"/api/v1/sync/blobs/{sha}", content=data[:CHUNK], headers={**user.headers, "Upload-Offset": "0"}
    )
    assert first.status_code == 200 and first.json()["offset"] == CHUNK
    stale = await client.patch(
        f"/api/v1/sync/blobs/{sha}", content=data[:CHUNK], headers={**user.headers, "Upload-Offset": "0"}
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["details"] == {"offset": CHUNK}
    status = await client.get(f"/api/v1/sync/blobs/{sha}", headers=user.headers)
    assert status.json()["offset"] == CHUNK and status.headers["upload-offset"] == str(CHUNK)


async def test_citizens_and_strangers_cannot_use_the_store(client, factory, tmp_path):
    await factory.tree()
    citizen = await factory.user(kind="citizen")
    sha = "a" * 64
    answer = await client.post("/api/v1/sync/blobs", json={"sha256": sha, "size": 1}, headers=citizen.headers)
    assert answer.status_code == 403
    assert (await client.post("/api/v1/sync/blobs", json={"sha256": sha, "size": 1})).status_code == 401


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    cuts=st.lists(
        st.tuples(st.integers(min_value=1, max_value=7), st.integers(min_value=0, max_value=CHUNK - 1)),
        min_size=1,
        max_size=4,
        unique_by=lambda c: c[0],
    )
)
def test_cut_at_random_chunks_and_bytes_costs_at_most_one_chunk_per_cut(cuts, blob_env):
    """Cut the upload at random requests and random byte offsets within the chunk in flight; the
    upload resumes from the server's offset and resends at most the chunk that was cut."""
    plan: list = ["ok"] * 20
    for request_no, byte in cuts:
        plan[request_no] = ("cut_request", byte)
    data = payload(6 * CHUNK + 999, seed=len(cuts))
    sha, report = blob_env(data, plan)
    assert report.completed == 1
    assert report.cuts >= 1
    assert report.bytes_sent - len(data) <= report.cuts * CHUNK
    info = blob_env.info(sha)
    assert info.complete and info.path.read_bytes() == data


@pytest.fixture
def blob_env(settings, tmp_path_factory):
    """A server (app + database) for the property test above, run in its own event loop per example."""
    import asyncio

    from backend.app import Overrides, create_app
    from tests.conftest import running
    from tests.factories import Factory

    loop = asyncio.new_event_loop()

    class Env:
        def __call__(self, data, plan):
            return loop.run_until_complete(self._run(data, plan))

        async def _run(self, data, plan):
            app = create_app(settings, Overrides())
            async with running(app):
                factory = Factory(app.state.rt)
                if not await factory.rt.db.fetch('SELECT 1 AS x FROM "area" LIMIT 1'):
                    await factory.tree()
                user = await factory.user((Role.COMMUNE_OFFICIAL, "38001"))
                tmp = tmp_path_factory.mktemp("cut")

                class Client:
                    pass

                holder = Client()
                holder.app = app
                sha, report, _ = await upload(holder, user, tmp, data, plan)
                self.last = await get_blob(app.state.rt, sha)
                await SyncBlob.delete().where(SyncBlob.sha256 == sha)
                return sha, report

        def info(self, sha):
            return self.last

    yield Env()
    loop.close()
