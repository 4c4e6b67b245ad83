"""SMS text: the two encodings, transliteration for GSM-7 and exact segment counting.

* **UCS-2** carries Vietnamese with every diacritic. A single message holds 70 UTF-16 code units;
  a concatenated one 67 per segment (the user-data header takes 6 bytes). A character outside the
  Basic Multilingual Plane (an emoji) is a surrogate pair, two code units that are never split
  between segments. Text is NFC first: a decomposed ``ệ`` would cost three code units instead of one.
* **GSM-7** (3GPP TS 23.038) is cheaper — 160 septets, 153 per segment — but has no Vietnamese
  letters, so the text is written "không dấu" the way people type SMS: NFD, combining marks
  dropped, ``đ``/``Đ`` → ``d``/``D`` (``đ`` has no decomposition), typographic punctuation mapped
  to its plain form, anything else unrepresentable to ``?``. Every letter of every word is kept, so
  the meaning is kept. Characters of the extension table (``^{}\\[~]|€`` and form feed) take two
  septets (escape + code) and an escape pair is never split between segments.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["gsm7", "ucs2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\x0c^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# Plain forms of punctuation the GSM alphabet lacks; letters are handled by stripping marks.
_PLAIN = {
    "đ": "d",
    "Đ": "D",
    "“": '"',
    "”": '"',
    "„": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "–": "-",
    "—": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "·": ".",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "«": '"',
    "»": '"',
    "°": "o",
    "×": "x",
    "²": "2",
    "³": "3",
    "½": "1/2",
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def to_gsm7(text: str) -> str:
    """Vietnamese without diacritics, in characters GSM-7 can carry."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn":
            continue
        if ch in _PLAIN:
            out.append(_PLAIN[ch])
        elif ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
        else:
            # Letters of other scripts may still decompose to a base letter (NFKD: ligatures, ﬁ).
            folded = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if c in GSM7_BASIC or c in GSM7_EXTENSION
            )
            out.append(folded or "?")
    # NFD left letters like "É" decomposed; recompose the few the GSM alphabet has.
    return unicodedata.normalize("NFC", "".join(out))


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _units(text: str, encoding: Encoding) -> list[int]:
    """Cost of each character in septets (GSM-7) or UTF-16 code units (UCS-2)."""
    if encoding == "gsm7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _limits(encoding: Encoding) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_PART) if encoding == "gsm7" else (UCS2_SINGLE, UCS2_PART)


def split_segments(text: str, encoding: Encoding) -> list[str]:
    """The parts a phone network carries, never splitting an escape pair or a surrogate pair."""
    units = _units(text, encoding)
    single, part = _limits(encoding)
    if sum(units) <= single:
        return [text] if text else []
    segments: list[str] = []
    start, used = 0, 0
    for i, cost in enumerate(units):
        if used + cost > part:
            segments.append(text[start:i])
            start, used = i, 0
        used += cost
    segments.append(text[start:])
    return segments


def count_segments(text: str, encoding: Encoding) -> int:
    return len(split_segments(text, encoding))


@dataclass(frozen=True)
class SmsText:
    text: str
    encoding: Encoding
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def encode(text: str, encoding: Encoding) -> SmsText:
    """The text as it will be sent in ``encoding`` (transliterated for GSM-7), with its cost."""
    body = to_gsm7(text) if encoding == "gsm7" else nfc(text)
    return SmsText(body, encoding, count_segments(body, encoding), sum(_units(body, encoding)))


def fit(head: str, tail: str, encoding: Encoding, max_segments: int) -> SmsText:
    """``head`` + ``tail`` cut (at a word, with an ellipsis) so the message takes at most
    ``max_segments`` segments; ``head`` (prefix and title) is kept whole when it fits at all."""
    whole = encode(head + tail, encoding)
    if whole.segments <= max_segments:
        return whole
    ellipsis = "..." if encoding == "gsm7" else "…"
    words = (head + tail).split(" ")
    # Binary search on the number of words kept: segments grow monotonically with the length.
    low, high = 0, len(words)
    while low < high:
        mid = (low + high + 1) // 2
        if encode(" ".join(words[:mid]).rstrip(" .,;:") + ellipsis, encoding).segments <= max_segments:
            low = mid
        else:
            high = mid - 1
    if low == 0:
        # One very long word: cut by characters.
        text = encode(head + tail, encoding).text
        while text and encode(text + ellipsis, encoding).segments > max_segments:
            text = text[: max(0, len(text) - max(1, len(text) // 20))]
        return encode(text + ellipsis, encoding)
    return encode(" ".join(words[:low]).rstrip(" .,;:") + ellipsis, encoding)
