"""Broadcast benchmark: compiling a week of schedules for the whole country, and producing a
15-minute programme's audio.

1. **Compile** — the country's shape: 3,321 commune stations (80% rural with a 45-minute maximum,
   20% urban with 15), 20 clusters each in 3 groups (the default group and two villages), the default
   week (two windows, weekdays), a VOV1 relay in every morning session, and a notice mix per station:
   3 province-wide priority notices, 1–3 commune priority notices, 2–8 normal notices the commune
   chose (some for one village only, some expiring mid-week), one official's recording, one answer to
   feedback; speech lengths 20–180 s. The compiler is what the worker runs for each station
   (``slots_for`` + ``compile_plan``). Baseline, same process, same inputs: a greedy first-fit that
   drops each item into the first session with room, with no ranking, validity, groups, relays or
   layout — the least work that touches the same items and sessions.
2. **Audio** — a 15-minute programme: Vietnamese text of about 2,200 words in 15 notices, spoken with
   eSpeak NG (``vi``, 150 words a minute), each clip normalised to -16 LUFS, assembled with pydub
   (chime, pauses, intro and outro), normalised again and encoded to MP3 with ffmpeg — the steps
   ``backend.broadcast.audio.render`` runs, without the database. Reported as seconds and real-time
   factor (audio length ÷ wall time); the baseline is ffmpeg encoding the finished PCM alone.

    python -m bench.bench_broadcast            # both parts
    python -m bench.bench_broadcast --stations 500 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import uuid
from datetime import date, datetime, timedelta
from time import perf_counter

from backend.adapters.audio import SAMPLE_RATE, encode_mp3
from backend.adapters.tts import EspeakTts
from backend.broadcast.audio import render
from backend.broadcast.programme.compile import Candidate, WeekSession, compile_plan, slots_for
from backend.broadcast.stations.rules import VN_TZ

STATIONS = 3321
MONDAY = date(2026, 3, 2)
WEEK = [
    WeekSession(id=f"d{d}{w}", day=d, start=s, end=e, relays=("VOV1",) if w == "a" else ())
    for d in range(5)
    for w, s, e in (("a", "05:30", "06:15"), ("p", "17:00", "17:45"))
]


def station_inputs(
    rng: random.Random, shared: list[Candidate]
) -> tuple[list[uuid.UUID], int, list[Candidate]]:
    groups = [uuid.uuid4() for _ in range(3)]
    maximum = 15 if rng.random() < 0.2 else 45
    week_end = datetime(2026, 3, 7, tzinfo=VN_TZ)
    items = list(shared)
    for i in range(rng.randint(1, 3)):
        items.append(Candidate(f"cp{i}", "priority", "", rng.randint(20, 120) * 1000, rank=10 + i))
    for i in range(rng.randint(2, 8)):
        village = rng.random() < 0.3
        expires = week_end - timedelta(days=rng.randint(0, 4)) if rng.random() < 0.3 else None
        items.append(
            Candidate(
                f"n{i}",
                "normal",
                "",
                rng.randint(30, 180) * 1000,
                rank=i,
                plays=rng.randint(1, 3),
                valid_until=expires,
                group_ids=frozenset({groups[1 + i % 2]}) if village else None,
            )
        )
    items.append(Candidate("rec", "recording", "", rng.randint(60, 240) * 1000))
    items.append(Candidate("ans", "answer", "", rng.randint(30, 90) * 1000))
    items.append(
        Candidate(
            "relay:VOV1",
            "relay",
            "",
            5 * 60_000,
            plays=1000,
            schedule_sessions=frozenset(s.id for s in WEEK if s.relays),
        )
    )
    return groups, maximum, items


def compile_station(groups: list[uuid.UUID], maximum: int, items: list[Candidate]) -> int:
    slots = slots_for(WEEK, groups, MONDAY, 7, maximum)
    plan = compile_plan(slots, items, intro_ms=6_000, outro_ms=6_000, pause_ms=800)
    return sum(len(s.items) for s in plan.sessions)


def baseline_station(groups: list[uuid.UUID], maximum: int, items: list[Candidate]) -> int:
    slots = slots_for(WEEK, groups, MONDAY, 7, maximum)
    used = [0] * len(slots)
    placed = 0
    for item in items:
        for i, slot in enumerate(slots):
            if used[i] + item.duration_ms <= slot.capacity_ms:
                used[i] += item.duration_ms
                placed += 1
                break
    return placed


def bench_compile(stations: int, rounds: int) -> None:
    rng = random.Random(38)
    shared = [Candidate(f"pp{i}", "priority", "", rng.randint(60, 180) * 1000, rank=i) for i in range(3)]
    inputs = [station_inputs(rng, shared) for _ in range(stations)]
    real, base = [], []
    placed = 0
    for _ in range(rounds):
        started = perf_counter()
        placed = sum(compile_station(*x) for x in inputs)
        real.append(perf_counter() - started)
        started = perf_counter()
        sum(baseline_station(*x) for x in inputs)
        base.append(perf_counter() - started)
    r, b = min(real), min(base)
    print(f"compile: {stations} stations × 3 groups, one week: best of {rounds}")
    print(
        f"  compile   {r:.2f} s = {r / stations * 1000:.2f} ms per station (median {statistics.median(real):.2f} s); {placed} placements"
    )
    print(f"  baseline  {b:.2f} s = {b / stations * 1000:.2f} ms per station")
    print(f"  ratio     {r / b:.1f}×")


TEXT = (
    "Ủy ban nhân dân xã thông báo tới toàn thể bà con nhân dân về kế hoạch tiêm chủng mở rộng cho trẻ em "
    "dưới năm tuổi, lịch cắt điện để sửa chữa đường dây, việc đăng ký tạm trú, tạm vắng, phòng chống dịch "
    "bệnh cho gia súc, gia cầm và thời vụ gieo cấy lúa vụ xuân. Đề nghị các hộ gia đình chủ động thực hiện."
)


async def bench_audio(minutes: int) -> None:
    tts = EspeakTts()
    base_words = TEXT.split()
    clips: list[render.Clip] = []
    words = 0
    started = perf_counter()
    i = 0
    while sum(c.duration_ms for c in clips) < minutes * 60_000:
        text = (
            f"Tin số {i + 1}. "
            + " ".join(base_words[(i * 7 + j) % len(base_words)] for j in range(200))
            + "."
        )
        spoken = await tts.synthesize(text, "vi", 150)
        clips.append(
            render.Clip(key=str(i), pcm=render.normalise(spoken.pcm, SAMPLE_RATE), sample_rate=SAMPLE_RATE)
        )
        words += len(text.split())
        i += 1
    t_tts = perf_counter() - started
    intro = await tts.synthesize(
        "Đây là Đài truyền thanh xã. Mời bà con nghe chương trình phát thanh.", "vi", 150
    )
    outro = await tts.synthesize("Chương trình phát thanh đến đây là kết thúc.", "vi", 150)
    parts = [
        render.CHIME,
        render.Clip("i", intro.pcm, SAMPLE_RATE),
        *clips,
        render.Clip("o", outro.pcm, SAMPLE_RATE),
        render.CHIME,
    ]
    started = perf_counter()
    pcm = render._assemble(parts, 800)
    t_assemble = perf_counter() - started
    started = perf_counter()
    mp3 = await encode_mp3(pcm, SAMPLE_RATE)
    t_encode = perf_counter() - started
    seconds = len(pcm) / 2 / SAMPLE_RATE
    total = t_tts + t_assemble + t_encode
    print(
        f"audio: {len(clips)} notices, {words} words → {seconds / 60:.1f} min programme, {len(mp3) / 1e6:.1f} MB MP3"
    )
    print(f"  speech + clip loudness  {t_tts:.2f} s")
    print(f"  assembly + loudness     {t_assemble:.2f} s")
    print(f"  MP3 encode (baseline)   {t_encode:.2f} s  (real-time factor {seconds / t_encode:.0f}×)")
    print(
        f"  total                   {total:.2f} s  real-time factor {seconds / total:.0f}× ({total / t_encode:.1f}× the encode alone)"
    )
    print(
        f"  loudness of the result  {render.loudness_of(pcm, SAMPLE_RATE):.2f} LUFS (target {render.TARGET_LUFS})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stations", type=int, default=STATIONS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--minutes", type=int, default=15)
    args = parser.parse_args()
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    bench_compile(args.stations, args.rounds)
    asyncio.run(bench_audio(args.minutes))


if __name__ == "__main__":
    main()
