"""Files of each kind (real headers and containers, random contents), a staff upload through the
reference client, and the API calls the tests repeat."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path
from typing import Any

from mobile_client_py.blobs import BlobQueue
from tests.factories import User
from tests.sync.helpers import phone

MAX_BYTES = 640 * 1024
CHUNK = 64 * 1024


def noise(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def pdf(size: int = 200 * 1024, seed: int = 1) -> bytes:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    return head + noise(max(size - len(head) - 6, 0), seed) + b"%%EOF\n"


def box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def mp4(handler: bytes = b"vide", size: int = 300 * 1024, moov_last: bool = False, seed: int = 2) -> bytes:
    """An ISO-BMFF file: ftyp, a moov whose one track has the given handler, and media data."""
    ftyp = box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2avc1mp41")
    hdlr = box(b"hdlr", b"\x00" * 8 + handler + b"\x00" * 12 + b"Handler\x00")
    moov = box(b"moov", box(b"mvhd", b"\x00" * 100) + box(b"trak", box(b"mdia", hdlr)))
    mdat = box(b"mdat", noise(max(size - len(ftyp) - len(moov) - 8, 0), seed))
    return ftyp + (mdat + moov if moov_last else moov + mdat)


def mp3(size: int = 100 * 1024, seed: int = 3) -> bytes:
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + noise(size - 10, seed)


def pptx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("ppt/presentation.xml", '<?xml version="1.0"?><p:presentation/>')
        archive.writestr("ppt/slides/slide1.xml", "<p:sld/>" + "x" * 2000)
    return out.getvalue()


def odp() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.presentation")
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def webm(video: bool = True) -> bytes:
    codec = b"V_VP9" if video else b"A_OPUS"
    return b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + b"\x00" * 40 + codec + noise(4000, 4)


async def upload(client: Any, user: User, folder: Path, data: bytes, name: str) -> str:
    """Staff upload a file to the blob store with the reference client (chunked, resumable)."""
    path = folder / name
    path.write_bytes(data)
    staff = phone(client.app, folder / f"{name}.staff.db", user)
    queue = BlobQueue(staff, chunk=CHUNK)
    sha = queue.add(path, "application/octet-stream")
    report = await queue.upload_all()
    assert report.completed == 1
    return sha


async def topic(client: Any, user: User, code: str = "chuyen-doi-so", name: str = "Chuyển đổi số") -> None:
    answer = await client.post(
        "/api/v1/training/topics", json={"code": code, "name": name}, headers=user.headers
    )
    assert answer.status_code == 201, answer.text


async def material(client: Any, user: User, sha: str, **fields: Any) -> dict[str, Any]:
    body = {
        "topic": "chuyen-doi-so",
        "level": "basic",
        "kind": "document",
        "title": "Hướng dẫn sử dụng ứng dụng Kẻng cho cán bộ xã",
        "description": "Tài liệu cơ bản về tiếp nhận phản ánh và soạn bản tin.",
        "sha256": sha,
        **fields,
    }
    answer = await client.post("/api/v1/training/materials", json=body, headers=user.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def publish(client: Any, user: User, material_id: str) -> dict[str, Any]:
    answer = await client.post(f"/api/v1/training/materials/{material_id}/publish", headers=user.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()
