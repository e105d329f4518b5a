"""Reading a supplier CSV: every row is either to invite or refused with its line and reason."""

from __future__ import annotations

from carbonlink.exchange.supplier_roster import (
    BAD_COMPANY_ID,
    BAD_EMAIL,
    INVITED,
    NO_HEADER,
    NO_NAME,
    NO_ORGANIZATION,
    TWICE,
    WRONG_COLUMNS,
    read_roster,
)

CSV = """name,email,organization,company_id
Demo Coking Co.,Sales@Coke.example.cn,Demo Coking,urn:pact:coke.example.cn:company-id:1

Demo Scrap Dealer,not-an-address,Demo Scrap,
,nobody@x.example.cn,Nobody,
Demo Lime Works,lime@lime.example.cn,,
Demo Ore Co.,ore@ore.example.cn,Demo Ore,ORE-1
Coke again,sales@coke.example.cn,Demo Coking,
Old friend,old@friend.example.cn,Friend Ltd,
short row,x@y.example.cn
"""


def test_good_rows_are_kept_and_each_bad_row_is_named_with_its_line() -> None:
    rows, errors = read_roster(CSV, known_emails=frozenset({"old@friend.example.cn"}))
    assert [(r.line, r.name, r.email, r.company_id) for r in rows] == [
        (2, "Demo Coking Co.", "sales@coke.example.cn", "urn:pact:coke.example.cn:company-id:1")
    ]
    assert [(e.line, e.reason) for e in errors] == [
        (4, BAD_EMAIL),
        (5, NO_NAME),
        (6, NO_ORGANIZATION),
        (7, BAD_COMPANY_ID),
        (8, TWICE),
        (9, INVITED),
        (10, WRONG_COLUMNS),
    ]
    # eight non-blank data rows, none dropped
    assert len(rows) + len(errors) == 8


def test_chinese_headers_and_a_byte_order_mark_are_read() -> None:
    rows, errors = read_roster("\ufeff名称,邮箱,组织\n示范焦化,a@b.example.cn,示范焦化有限公司\n")
    assert errors == [] and rows[0].organization == "示范焦化有限公司"


def test_a_file_without_the_header_is_refused_as_a_whole() -> None:
    rows, errors = read_roster("Demo Coking Co.,sales@coke.example.cn,Demo Coking\n")
    assert rows == [] and [(e.line, e.reason) for e in errors] == [(1, NO_HEADER)]
    assert read_roster("") == ([], [errors[0].__class__(1, NO_HEADER)])
