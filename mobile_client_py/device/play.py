"""Playback on the device's clock, and proof of play for what was played.

An emergency plays its audio ``repeat`` times ``interval_s`` apart from ``valid_from`` (a board
shows the slide for the same spans), pre-empting any session; a signed end stops it. An audio
manifest plays each item of each coming session at its offset. A board shows each slide of its
playlist once per manifest. Plays whose end has already passed when the manifest arrives are not
played (nor reported): the device was not there."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiomqtt

from mobile_client_py.device.clock import SCHEMA, iso
from mobile_client_py.manifest import Manifest

if TYPE_CHECKING:
    from mobile_client_py.device.sim import SimulatedDevice


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Player:
    def __init__(self, device: SimulatedDevice) -> None:
        self.device = device
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.taken: set[str] = set()
        self.emergencies: set[str] = set()  # scopes of emergencies playing now

    def take(self, manifest: Manifest) -> None:
        """Start playing ``manifest`` (once: a retained copy seen again changes nothing)."""
        if manifest.manifest_id in self.taken:
            return
        self.taken.add(manifest.manifest_id)
        old = self.tasks.pop(manifest.scope, None)
        if old is not None:
            old.cancel()
        if manifest.kind == "emergency" and manifest.ended:
            self.emergencies.discard(manifest.scope)
            return
        if manifest.kind == "emergency":
            self.emergencies.add(manifest.scope)
            job = self._emergency(manifest)
        elif manifest.kind == "audio":
            job = self._audio(manifest)
        else:
            job = self._slides(manifest)
        self.tasks[manifest.scope] = asyncio.create_task(job)

    def cancel_all(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        self.tasks.clear()
        self.emergencies.clear()

    async def _play(
        self, manifest: Manifest, entry: dict[str, Any], start: datetime, end: datetime, report_id: str
    ) -> None:
        clock = self.device.clock
        if end <= clock.now():
            return
        await clock.sleep_until(start)
        result = "played"
        if manifest.kind != "emergency" and self.emergencies:
            result = "preempted"
        else:
            await clock.sleep_until(end)
        await self.proof(manifest, entry, start, end if result == "played" else start, result, report_id)

    async def _emergency(self, manifest: Manifest) -> None:
        p = manifest.payload
        wanted = "emergency_slide" if self.device.identity.kind == "eboard" else "emergency_audio"
        try:
            for entry in manifest.entries:
                if entry.get("kind") != wanted:
                    continue
                audio = next((e for e in manifest.entries if e.get("kind") == "emergency_audio"), entry)
                span = timedelta(milliseconds=int(audio.get("duration_ms") or 0))
                for k in range(int(p.get("repeat") or 1)):
                    start = manifest.valid_from + timedelta(seconds=k * int(p.get("interval_s") or 0))
                    await self._play(
                        manifest, entry, start, start + span, f"{manifest.manifest_id}/{k}/{entry['kind']}"
                    )
        finally:
            self.emergencies.discard(manifest.scope)

    async def _audio(self, manifest: Manifest) -> None:
        for session in manifest.entries:
            if session.get("kind") != "session":
                continue
            begins = _time(session["starts_at"])
            for item in session.get("items", []):
                start = begins + timedelta(milliseconds=int(item["offset_ms"]))
                end = start + timedelta(milliseconds=int(item["duration_ms"]))
                await self._play(manifest, item, start, end, f"{manifest.manifest_id}/{item['id'][-20:]}")

    async def _slides(self, manifest: Manifest) -> None:
        moment = self.device.clock.now()
        for i, slide in enumerate(manifest.entries):
            end = moment + timedelta(seconds=int(slide.get("duration_s") or 6))
            await self._play(manifest, slide, moment, end, f"{manifest.manifest_id}/{i}")
            moment = end

    async def proof(
        self,
        manifest: Manifest,
        entry: dict[str, Any],
        start: datetime,
        end: datetime,
        result: str,
        report_id: str,
    ) -> None:
        notice_id = entry.get("notice_id")
        version = next((n.get("version") for n in manifest.notices if n.get("id") == notice_id), None)
        body = {
            "schema": SCHEMA,
            "report_id": report_id[:64],
            "manifest_id": manifest.manifest_id,
            "manifest_version": manifest.version,
            "group_id": manifest.group_id,
            "item_id": str(entry.get("id", ""))[:64],
            "notice_id": notice_id,
            "notice_version": version,
            "media_sha256": str(entry.get("media_id") or "")[:64],
            "started_at": iso(start),
            "ended_at": iso(end),
            "result": result,
            "detail": "",
        }
        try:
            await self.device.publish("proof", body)
        except aiomqtt.MqttError:  # offline: kept and sent on the next connection
            self.device.unsent.append(("proof", body))
        self.device.stats.proofs += 1
