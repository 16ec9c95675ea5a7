"""The security policies' header values (crm.headers) and the matrices' shades."""

import pytest

from crm.headers import csp_extend, csp_header_value, permissions_policy_value
from crm.views import heat_shade

POLICY = {"default-src": ["'self'"], "img-src": ["'self'", "data:"], "object-src": ["'none'"]}


def test_a_policy_is_written_directive_by_directive():
    policy = {**POLICY, "upgrade-insecure-requests": True, "report-uri": [], "sandbox": False}
    assert csp_header_value(policy) == (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; upgrade-insecure-requests"
    )


def test_an_operator_adds_sources_to_a_directive():
    extended = csp_extend(POLICY, "img-src https://tiles.example.com data:")
    assert extended["img-src"] == ["'self'", "data:", "https://tiles.example.com"]
    assert POLICY["img-src"] == ["'self'", "data:"]  # the settings' own dict is left alone


def test_a_new_fetch_directive_keeps_what_default_src_allowed():
    """Naming media-src would otherwise narrow it to the operator's sources alone."""
    extended = csp_extend(POLICY, "media-src https://cdn.example.com")
    assert extended["media-src"] == ["'self'", "https://cdn.example.com"]


def test_several_directives_and_a_switch_are_added():
    extended = csp_extend(
        POLICY, " report-uri https://r.example.com/csp ;UPGRADE-INSECURE-REQUESTS; ; "
    )
    assert (extended["report-uri"], extended["upgrade-insecure-requests"]) == (
        ["https://r.example.com/csp"],
        True,
    )
    assert csp_header_value(extended).endswith(
        "report-uri https://r.example.com/csp; upgrade-insecure-requests"
    )


def test_nothing_to_add_leaves_the_policy_as_it_is():
    assert csp_extend(POLICY, "") == POLICY


def test_the_permissions_policy_denies_all_but_what_the_page_allows():
    policy = {"camera": [], "geolocation": [], "fullscreen": ['"https://video.example.com"']}
    assert permissions_policy_value(policy) == (
        'camera=(), geolocation=(), fullscreen=("https://video.example.com")'
    )
    assert permissions_policy_value(policy, {"geolocation", "fullscreen"}) == (
        'camera=(), geolocation=(self), fullscreen=(self "https://video.example.com")'
    )


@pytest.mark.parametrize(
    ("n", "peak", "shade"), [(0, 5, 0), (0, 0, 0), (1, 1000, 1), (1, 2, 5), (3, 3, 9)]
)
def test_a_matrix_cell_is_shaded_by_its_share_of_the_fullest(n, peak, shade):
    assert heat_shade(n, peak) == shade
