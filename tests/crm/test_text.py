"""The shared checks of incoming text and JSON (crm.text, crm.api.parsers): pure functions on
hand-made values, at depths no recursion could walk."""

from __future__ import annotations

import json

import pytest

from crm.api.parsers import json_depth_exceeds, nul_path, value_depth_exceeds
from crm.text import strings, text_error, unstorable_text


def nested(levels: int, leaf):
    value = leaf
    for n in range(levels):
        value = [value] if n % 2 else {"k": value}
    return value


def test_text_error_names_nul_and_unpaired_surrogates_only():
    assert text_error("天河\t一号店\n😀") is None  # tabs, newlines and paired surrogates are text
    assert text_error("a\x00b") == "Text may not contain NUL characters (\\u0000)."
    assert text_error("a\udfffb") == "Text may not contain an unpaired surrogate (\\udfff)."


def test_strings_come_in_document_order_with_their_paths():
    value = {"a": ["x", {"b": "y"}], "c": "z"}

    assert list(strings(value)) == [
        ("", "a"),
        ("a.0", "x"),
        ("a.1", "b"),
        ("a.1.b", "y"),
        ("", "c"),
        ("c", "z"),
    ]


def test_unstorable_text_names_each_place_and_never_a_bad_key():
    item = {"name": "ok", "lines": [{"code": "A\ud800"}], "bad\x00": {"deep": "\x00"}}

    assert unstorable_text(item) == {
        "lines.0.code": ["Text may not contain an unpaired surrogate (\\ud800)."],
        "non_field_errors": ["Text may not contain NUL characters (\\u0000)."],
    }
    assert unstorable_text({"name": "天河一号店", "n": 1, "ok": True}) == {}


def test_the_walks_do_not_recurse_however_deep_the_value():
    deep = nested(100_000, "a\x00")

    assert nul_path(deep).count(".") == 100_000 - 1
    assert list(unstorable_text(deep).values()) == [
        ["Text may not contain NUL characters (\\u0000)."]
    ]


def test_json_depth_counts_arrays_and_objects_outside_strings():
    assert not json_depth_exceeds('{"a": [1, {"b": [2]}]}', 4)
    assert json_depth_exceeds('{"a": [1, {"b": [2]}]}', 3)
    # brackets inside strings, escaped quotes included, do not count
    assert not json_depth_exceeds('["[[[[", "\\"[[[[\\"", {"x": "}}]]"}]', 2)
    assert json_depth_exceeds("[" * 100_000 + "]" * 100_000, 32)
    # malformed text whose brackets alone go too deep is refused before decoding; brackets
    # after an unterminated string are in it (the decoder stops there)
    assert json_depth_exceeds("[" * 40 + '"abc', 32)
    assert not json_depth_exceeds('["abc\\"' + "[" * 40, 32)


@pytest.mark.parametrize(
    "text",
    [
        "1",
        '"[[["',
        "[]",
        "{}",
        '{"a": [1, {"b": [2]}]}',
        '["[[[[", "\\"[[[[\\"", {"x": "}}]]"}]',
        '[[], [[]], {"a": {"b": {}}}]',
        "[" * 40 + "]" * 40,
        '{"orders": [{"lines": [{"q": 1}, {"q": [[2]]}]}, {"lines": []}]}',
    ],
)
def test_the_depth_of_decoded_json_is_the_depth_of_its_text(text):
    value = json.loads(text)

    for limit in range(0, 42):
        assert value_depth_exceeds(value, limit) == json_depth_exceeds(text, limit), limit
