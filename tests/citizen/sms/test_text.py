"""SMS text: GSM-7 transliteration keeps every letter, and segments are counted as networks do."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.citizen.sms.text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    count_segments,
    encode,
    fit,
    is_gsm7,
    split_segments,
    to_gsm7,
)

VIETNAMESE = "Cảnh báo lũ quét: Đề nghị người dân thôn Đông di dời khẩn cấp đến nơi an toàn!"


def test_vietnamese_without_diacritics_keeps_every_letter():
    assert to_gsm7(VIETNAMESE) == (
        "Canh bao lu quet: De nghi nguoi dan thon Dong di doi khan cap den noi an toan!"
    )
    assert to_gsm7("đường Đinh Tiên Hoàng") == "duong Dinh Tien Hoang"
    assert to_gsm7("Thừa Thiên–Huế “khẩn” … 25°C") == 'Thua Thien-Hue "khan" ... 25oC'


def test_decomposed_input_gives_the_same_text_as_composed():
    nfd = unicodedata.normalize("NFD", VIETNAMESE)
    assert nfd != VIETNAMESE
    assert to_gsm7(nfd) == to_gsm7(VIETNAMESE)
    # UCS-2 is counted on NFC: a decomposed "ệ" would otherwise cost three code units.
    assert encode(nfd, "ucs2").units == len(VIETNAMESE)
    assert encode(nfd, "ucs2").text == VIETNAMESE


def test_gsm7_limits_single_and_concatenated():
    assert count_segments("a" * 160, "gsm7") == 1
    assert count_segments("a" * 161, "gsm7") == 2
    assert count_segments("a" * 306, "gsm7") == 2
    assert count_segments("a" * 307, "gsm7") == 3


def test_gsm7_extension_characters_count_double_and_are_never_split():
    assert encode("€" * 80, "gsm7").units == 160
    assert count_segments("€" * 80, "gsm7") == 1
    assert count_segments("a" * 159 + "€", "gsm7") == 2
    # 152 septets then an escape pair: the pair moves whole into the next segment.
    parts = split_segments("a" * 152 + "[" + "b" * 10, "gsm7")
    assert parts[0] == "a" * 152 and parts[1].startswith("[")
    assert all(sum(2 if c in GSM7_EXTENSION else 1 for c in p) <= 153 for p in parts)


def test_ucs2_limits_and_surrogate_pairs():
    assert count_segments("ệ" * 70, "ucs2") == 1
    assert count_segments("ệ" * 71, "ucs2") == 2
    assert count_segments("ệ" * 134, "ucs2") == 2
    assert count_segments("ệ" * 135, "ucs2") == 3
    assert encode("🚨" * 35, "ucs2").units == 70
    assert count_segments("🚨" * 35, "ucs2") == 1
    assert count_segments("🚨" * 36, "ucs2") == 2
    # 66 units then a pair: the pair is not split, so the segment holds 66 units.
    parts = split_segments("a" * 66 + "🚨" + "b" * 5, "ucs2")
    assert parts == ["a" * 66, "🚨bbbbb"]


@given(st.text(max_size=600))
def test_transliteration_is_always_gsm7_and_segments_fit(text):
    plain = to_gsm7(text)
    assert is_gsm7(plain)
    for encoding, single, part in (("gsm7", 160, 153), ("ucs2", 70, 67)):
        body = plain if encoding == "gsm7" else unicodedata.normalize("NFC", text)
        parts = split_segments(body, encoding)
        assert "".join(parts) == body
        cost = [
            sum(2 if (c in GSM7_EXTENSION if encoding == "gsm7" else ord(c) > 0xFFFF) else 1 for c in p)
            for p in parts
        ]
        if len(parts) <= 1:
            assert sum(cost) <= single
        else:
            assert all(c <= part for c in cost)
            assert sum(cost) > single


@pytest.mark.parametrize("encoding", ["gsm7", "ucs2"])
def test_fit_cuts_at_a_word_with_an_ellipsis(encoding):
    body = " ".join(["Người dân chú ý phòng chống bão số 3"] * 30)
    sms = fit("KHẨN CẤP: Bão số 3. ", body, encoding, 2)
    assert sms.segments <= 2
    assert sms.text.startswith("KHAN CAP: Bao so 3." if encoding == "gsm7" else "KHẨN CẤP: Bão số 3.")
    assert sms.text.endswith("..." if encoding == "gsm7" else "…")
    short = fit("Họp dân. ", "Tối nay 19h.", encoding, 2)
    assert short.text.endswith("19h.") and short.segments == 1


def test_gsm_alphabet_sets_are_disjoint():
    assert not (GSM7_BASIC & GSM7_EXTENSION)
