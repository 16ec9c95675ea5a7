"""The 42-category code (seed 001): 2 market types × 7 formats × 3 business scales."""

import pytest

from customers.choices import CATEGORY_CODES, category_code


def test_examples_from_the_brief():
    assert category_code("C", "Z", "large") == "CZ1"  # urban grocery, large
    assert category_code("X", "B", "small") == "XB3"  # rural convenience store, small


def test_there_are_exactly_42_categories():
    assert len(set(CATEGORY_CODES)) == 42


def test_no_code_until_the_scale_is_known():
    assert category_code("C", "Z", "") == ""


@pytest.mark.parametrize(
    ("market", "fmt", "scale"),
    [("U", "Z", "large"), ("C", "W", "large"), ("C", "Z", "huge"), ("C", "Z", "1")],
)
def test_unknown_letters_are_refused(market, fmt, scale):
    with pytest.raises(ValueError):
        category_code(market, fmt, scale)
