"""Gzip bodies from parts compressed apart decode, with any decoder, to the parts in order."""

from __future__ import annotations

import gzip
import os
import zlib

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.lib import gzip_parts
from backend.lib.gzip_parts import deflate, gzip_of


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=3000), st.booleans()), max_size=6))
def test_parts_compressed_apart_decode_to_the_parts_in_order(parts):
    body = gzip_of([deflate(raw) if early else raw for raw, early in parts])
    whole = b"".join(raw for raw, _ in parts)
    assert gzip.decompress(body) == whole
    one = zlib.decompressobj(16 + zlib.MAX_WBITS)  # what HTTP clients run: one gzip member
    assert one.decompress(body) == whole and one.eof and not one.unused_data


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.binary(max_size=64), st.integers(min_value=0, max_value=1 << 22))
def test_checksums_of_parts_combine_to_the_checksum_of_the_whole(head, tail, zeros):
    second = tail + bytes(zeros)  # long parts too, without hypothesis making megabytes
    combined = gzip_parts._combine(zlib.crc32(head), zlib.crc32(second), len(second))
    assert combined == zlib.crc32(head + second)


def test_a_long_part_gets_the_right_checksum():
    big = os.urandom(5000) + "thông báo ".encode() * 20000
    body = gzip_of([b'{"changes":[', deflate(big), b"]}"])
    assert gzip.decompress(body) == b'{"changes":[' + big + b"]}"
    assert httpx.Response(200, content=body, headers={"Content-Encoding": "gzip"}).content.endswith(b"]}")


def test_a_part_compressed_once_is_as_small_as_compressing_it_with_the_rest():
    rows = ",".join(f'{{"t":"notice","id":"{i}","v":{i},"f":{{"title":"Tiêm chủng"}}}}' for i in range(3000))
    rows_bytes = rows.encode()
    together = len(gzip.compress(b"{" + rows_bytes + b"}", 6))
    assert len(gzip_of([b"{", deflate(rows_bytes), b"}"])) <= together + 64
