"""Product identifier and classification URNs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonlink.domain.footprint import (
    cn_code_urn,
    company_product_urn,
    gtin_urn,
    handle_urn,
    hs_code_urn,
    is_urn,
)
from carbonlink.domain.footprint.identifiers import gtin_check_digit
from carbonlink.errors import InputError


def test_gtin_check_digit_of_published_example() -> None:
    # GS1's own check-digit example: 629104150021 → check digit 3
    assert gtin_check_digit("629104150021") == 3
    assert gtin_urn("6291041500213") == "urn:gtin:6291041500213"
    with pytest.raises(InputError, match="expected 3"):
        gtin_urn("6291041500214")


@given(st.text(alphabet="0123456789", min_size=11, max_size=13))
def test_every_body_gets_exactly_one_valid_check_digit(body: str) -> None:
    digit = gtin_check_digit(body)
    if len(body) + 1 in (12, 13, 14):
        assert gtin_urn(body + str(digit)).endswith(body + str(digit))
        with pytest.raises(InputError):
            gtin_urn(body + str((digit + 1) % 10))


def test_handle_and_company_identifiers() -> None:
    assert (
        handle_urn("88.118.8/steel-coil-42", issuer="Steel.Example.cn")
        == "urn:pact:steel.example.cn:handle:88.118.8/steel-coil-42"
    )
    with pytest.raises(InputError, match="not a Handle"):
        handle_urn("steel-coil-42", issuer="example.cn")
    assert company_product_urn("example.com", "HRC-2") == "urn:pact:example.com:product-id:HRC-2"
    assert all(is_urn(u) for u in (handle_urn("88.1/x", issuer="a.cn"), gtin_urn("96385074")))


def test_customs_classifications() -> None:
    assert cn_code_urn("7208 10 00") == "urn:pact:productclassification:cn:72081000"
    assert hs_code_urn("7208.10") == "urn:pact:productclassification:hs:720810"
    with pytest.raises(InputError, match="8 digits"):
        cn_code_urn("7208")
