"""Ledger entries: RFC 8785 canonical bytes, builders and references."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonlink.errors import InputError
from carbonlink.ledger import entries
from carbonlink.ledger.entries import EntryKind, parse_entry

AT = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
DIGEST = hashlib.sha256(b"raw file").hexdigest()


def test_import_batch_entry_is_canonical_json_with_sorted_keys() -> None:
    # RFC 8785 sorts keys by UTF-16 code units: '_' (0x5F) sorts before 's' (0x73).
    draft = entries.import_batch_entry(
        "b-1", source="meters.csv", raw_sha256=DIGEST, records=3, recorded_at=AT
    )
    assert draft.kind is EntryKind.IMPORT_BATCH and draft.subject == "import-batch:b-1"
    expected = (
        '{"batch_id":"b-1","details":{},"kind":"import-batch","raw_sha256":"'
        + DIGEST
        + '","recorded_at":"2026-03-01T08:30:00Z","records":3,"rejected":0,'
        '"source":"meters.csv","v":1}'
    )
    assert draft.body == expected.encode()
    assert parse_entry(draft.body)["records"] == 3


def test_rfc8785_number_and_string_forms() -> None:
    draft = entries.calculation_run_entry(
        "run-1",
        inputs=[0, 2],
        settings={"gwp": "AR6", "oxidation": 1.0, "ncv": 2.5e-7, "€": "\u00e9"},
        results_sha256=DIGEST,
        recorded_at=AT,
    )
    text = draft.body.decode()
    assert '"oxidation":1' in text and '"ncv":2.5e-7' in text and '"€":"é"' in text


@given(
    st.dictionaries(
        st.text(max_size=8),
        st.one_of(st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=8), st.booleans()),
        max_size=6,
    )
)
def test_entries_round_trip_through_parse(settings_value: dict[str, object]) -> None:
    draft = entries.calculation_run_entry(
        "r", inputs=[1], settings=settings_value, results_sha256=DIGEST, recorded_at=AT
    )
    assert parse_entry(draft.body)["settings"] == settings_value


def test_non_canonical_bytes_are_rejected() -> None:
    body = entries.factor_set_entry("ipcc", "2006", content_sha256=DIGEST, recorded_at=AT).body
    spaced = json.dumps(json.loads(body), indent=1).encode()
    with pytest.raises(InputError, match="canonical"):
        parse_entry(spaced)
    with pytest.raises(InputError):
        parse_entry(b"not json")


@pytest.mark.parametrize("bad", ["ABC", DIGEST.upper(), DIGEST[:-1]])
def test_hashes_must_be_hex_sha256(bad: str) -> None:
    with pytest.raises(InputError):
        entries.import_batch_entry("b", source="s", raw_sha256=bad, records=1)


def test_report_correction_footprint_and_references() -> None:
    report = entries.report_entry(
        "inv-2025", report_kind="ghg-inventory", files={"inv.pdf": DIGEST}, inputs=[3, 4]
    )
    correction = entries.correction_entry(5, reason="wrong meter multiplier", replacement=9)
    footprint = entries.footprint_entry(
        "pf-1", document_sha256=DIGEST, direction="sent", partner="OEM"
    )
    assert entries.referenced_indices(parse_entry(report.body)) == [3, 4]
    assert entries.referenced_indices(parse_entry(correction.body)) == [5, 9]
    assert parse_entry(footprint.body)["kind"] == "footprint"
    with pytest.raises(InputError):
        entries.report_entry("r", report_kind="x", files={"../etc": DIGEST})
    with pytest.raises(InputError):
        entries.correction_entry(1, reason=" ")
    with pytest.raises(InputError):
        entries.footprint_entry("p", document_sha256=DIGEST, direction="lost", partner="x")


def test_message_set_hash_separates_message_boundaries() -> None:
    assert entries.message_set_sha256([b"ab", b"c"]) != entries.message_set_sha256([b"a", b"bc"])
    expected = hashlib.sha256(b"\x00" * 7 + b"\x01a").hexdigest()
    assert entries.message_set_sha256([b"a"]) == expected


def test_entry_from_json_canonicalises_and_checks() -> None:
    content = {"v": 1, "kind": "factor-set", "recorded_at": "2026-01-05T00:00:00Z", "name": "x"}
    draft = entries.entry_from_json(content, "factor-set:x")
    assert (
        draft.body == b'{"kind":"factor-set","name":"x","recorded_at":"2026-01-05T00:00:00Z","v":1}'
    )
    for bad in ({**content, "v": 2}, {**content, "kind": "poem"}, {"v": 1, "kind": "report"}):
        with pytest.raises(InputError):
            entries.entry_from_json(bad)
