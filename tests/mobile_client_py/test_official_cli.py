"""The official's command line: its documented examples parse, and a notice draft names a category
the server knows (a draft with none it knows would only come back rejected after the next sync)."""

from __future__ import annotations

import shlex

import pytest

from backend.core.categories.services import DEFAULT_CATEGORIES
from mobile_client_py import official_cli
from mobile_client_py.__main__ import build_parser

EXAMPLES = [
    line.strip().removeprefix("python -m mobile_client_py ")
    for line in (official_cli.__doc__ or "").splitlines()
    if line.strip().startswith("python -m mobile_client_py official")
]


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_documented_example_parses(example):
    args = build_parser().parse_args(shlex.split(example))
    assert args.role == "official"
    if args.command in ("notice-new", "feedback-new"):
        assert args.category in {code for code, _, _ in DEFAULT_CATEGORIES}


def test_a_notice_draft_without_a_category_is_refused_before_it_is_queued(capsys):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(
            ["official", "notice-new", "--title", "Họp dân", "--body", "…", "--area", "38001"]
        )
    assert exit_.value.code == 2
    assert "--category" in capsys.readouterr().err


def test_the_examples_cover_writing_a_notice():
    assert any(" notice-new " in example for example in EXAMPLES)
