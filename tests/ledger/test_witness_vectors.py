"""The witness against another implementation's test sequence (litewitness, filippo.io/torchwood).

The requests and the statuses expected are those of torchwood's
``cmd/litewitness/testdata/litewitness.txt`` (commit 341dc2f): a Sigsum log (Ed25519 key
``ffdc2d4d…100f``, origin ``sigsum.org/v1/tree/`` + hex SHA-256 of that key) whose checkpoints
and RFC 6962 consistency proofs were made by litewitness's own test generator, not by carbonlink.
Sent in order to a carbonlink witness, each gets the status litewitness gives, but one: a
checkpoint of an unknown origin, which litewitness refuses with 403 and c2sp.org/tlog-witness
(and carbonlink) with 404.
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine

from carbonlink.ledger.note import ED25519, Signer, Verifier, parse_note
from carbonlink.ledger.witness import SizeConflict, Witness, WitnessRefusal

LOG_KEY = bytes.fromhex("ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f")
ORIGIN = "sigsum.org/v1/tree/" + hashlib.sha256(LOG_KEY).hexdigest()

SEQUENCE = [
    # cosigned
    (
        "old 0\n"
        "\n"
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562\n"
        "1\n"
        "KgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "\n"
        "— sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562 "
        "UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeS"
        "PM3wfUQMFSzVnnNuWRTYrajXpNUbIQY=\n",
        200,
    ),
    # a signature by the log's key name and key ID that does not verify
    (
        "old 1\n"
        "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "\n"
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562\n"
        "3\n"
        "RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n"
        "\n"
        "— sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562 "
        "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJr"
        "e36kezNobZs4SUUdrcawfAB8WVrx6gx=\n",
        403,
    ),
    # another origin, unknown to the witness (litewitness: 403; the specification: 404)
    (
        "old 1\n"
        "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "\n"
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e563\n"
        "3\n"
        "RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n"
        "\n"
        "— sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e563 "
        "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJr"
        "e36kezNobZs4SUUdrcawfAB8WVrx6go=\n",
        404,
    ),
    # no consistency proof from 1 to 3
    (
        "old 1\n"
        "\n"
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562\n"
        "3\n"
        "RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n"
        "\n"
        "— sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562 "
        "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJr"
        "e36kezNobZs4SUUdrcawfAB8WVrx6go=\n",
        422,
    ),
    # a proof whose last hash is wrong
    (
        "old 1\n"
        "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABA=\n"
        "\n"
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562\n"
        "3\n"
        "RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n"
        "\n"
        "— sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562 "
        "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJr"
        "e36kezNobZs4SUUdrcawfAB8WVrx6go=\n",
        422,
    ),
    # the proof from 1 to 3
    (
        "old 1\n"
        "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "\n"
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562\n"
        "3\n"
        "RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=\n"
        "\n"
        "— sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562 "
        "UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJr"
        "e36kezNobZs4SUUdrcawfAB8WVrx6go=\n",
        200,
    ),
    # old 1, but the witness is at 3
    (
        "old 1\n"
        "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "+fUDV+k970B4I3uKrqJM4aP1lloPZP8mvr2Z4wRw2LI=\n"
        "KgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "\n"
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562\n"
        "5\n"
        "QrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=\n"
        "\n"
        "— sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562 "
        "UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2K"
        "EmLOZ/ASRcWJi0tW90dJWAShei7sDww=\n",
        409,
    ),
    # the proof from 3 to 5
    (
        "old 3\n"
        "KgIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "KgMAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "wgiIFdZfYNv6WU1OllBKsWnLYIS/DBMqt8Uh/S4OukE=\n"
        "KgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
        "\n"
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562\n"
        "5\n"
        "QrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=\n"
        "\n"
        "— sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562 "
        "UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2K"
        "EmLOZ/ASRcWJi0tW90dJWAShei7sDww=\n",
        200,
    ),
    # old 0 after the witness cosigned 5
    (
        "old 0\n"
        "\n"
        "sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562\n"
        "5\n"
        "QrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=\n"
        "\n"
        "— sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562 "
        "UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2K"
        "EmLOZ/ASRcWJi0tW90dJWAShei7sDww=\n",
        409,
    ),
]


def test_the_litewitness_sequence_gets_the_same_answers(
    engine: Engine, witness_signer: Signer
) -> None:
    assert ORIGIN.endswith("4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562")
    log_key = Verifier(ORIGIN, ED25519, LOG_KEY)
    assert log_key.key_id.hex() == "5202289b"  # the first 4 bytes of each signature line
    witness = Witness(engine, witness_signer)
    witness.add_log(ORIGIN, [log_key])
    answers = []
    for body, _status in SEQUENCE:
        try:
            line = witness.add_checkpoint(body.encode())
        except SizeConflict as exc:
            answers.append((409, exc.known_size))
            continue
        except WitnessRefusal as exc:
            answers.append((exc.status, None))
            continue
        text = parse_note(body.encode().partition(b"\n\n")[2]).text
        (cosignature,) = parse_note(text.encode() + b"\n" + line).signatures
        assert witness_signer.verifier().verify(text, cosignature)
        answers.append((200, None))
    assert [status for status, _ in answers] == [status for _, status in SEQUENCE]
    # litewitness's 409 bodies: "3\n" for old 1 after size 3 was cosigned, and then 5.
    assert [size for status, size in answers if status == 409] == [3, 5]
    assert witness.log(ORIGIN).size == 5


@pytest.mark.parametrize("number", [1, 3, 4])
def test_the_refused_requests_leave_the_witness_where_it_was(
    engine: Engine, witness_signer: Signer, number: int
) -> None:
    witness = Witness(engine, witness_signer)
    witness.add_log(ORIGIN, [Verifier(ORIGIN, ED25519, LOG_KEY)])
    witness.add_checkpoint(SEQUENCE[0][0].encode())
    with pytest.raises(WitnessRefusal):
        witness.add_checkpoint(SEQUENCE[number][0].encode())
    assert witness.log(ORIGIN).size == 1
