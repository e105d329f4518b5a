"""Every dashboard label has its Chinese translation; numbers and months follow the locale."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest

from carbonlink.api.i18n import formatter, load_catalogues, read_catalogue

API = files("carbonlink.api")
LABEL = re.compile(r'_\("((?:[^"\\]|\\.)*)"\)')
# Labels built from data at render time.
DYNAMIC = {
    "Scope 1",
    "Scope 2",
    "Scope 3",
    "admin",
    "editor",
    "viewer",
    "auditor",
    "supplier",
    "activity",
    "production",
    "good",
    "estimated",
    "suspect",
    "scope 1",
    "scope 2_location",
    "scope 2_market",
    "scope 3",
    "scope exported",
    "alerts open",
    "alerts acknowledged",
    "alerts closed",
    "info",
    "warning",
    "critical",
    "verified",
    "projected",
    # supply chain: contribution kinds, declared units, supplier channels, request states
    "product",
    "direct",
    "purchased",
    "secondary",
    "loop",
    "rest",
    "kilogram",
    "own PACT host",
    "supplier portal",
    "sent",
    "fulfilled",
    "rejected",
    "overdue",
    "failed",
}


def _labels() -> set[str]:
    found = set(DYNAMIC)
    for template in (API / "templates").iterdir():
        found |= set(LABEL.findall(template.read_text(encoding="utf-8")))
    found |= set(LABEL.findall((API / "routes" / "pages.py").read_text(encoding="utf-8")))
    found |= set(re.findall(r'gettext\("([^"]+)"\)', (API / "routes" / "pages.py").read_text()))
    found |= set(re.findall(r'gettext\("([^"]+)"\)', (API / "routes" / "supply.py").read_text()))
    return found


def test_every_label_is_translated_to_chinese() -> None:
    catalog = read_catalogue("zh")
    assert catalog is not None
    translated = {m.id for m in catalog if m.id and m.string}
    assert _labels() - translated == set()


def test_locale_formats() -> None:
    catalogues = load_catalogues()
    zh, en = formatter(catalogues, "zh"), formatter(catalogues, "en")
    assert zh.gettext("Overview") == "总览"
    assert en.gettext("Overview") == "Overview"
    assert zh.month("2026-10") == "2026年10月"
    assert en.month("2026-10") == "Oct 2026"
    assert zh.number(171032.28) == "171,032.3"
    assert en.percent(0.9912) == "99.1%"
    assert formatter(catalogues, "xx").lang == "zh"


def test_an_area_catalogue_is_merged_and_a_double_translation_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each area of the interface may keep its own .po file; one string in two files is refused."""
    import carbonlink.api.i18n as i18n

    folder = tmp_path / "carbonlink_api" / "locales" / "zh" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    head = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    (folder / "messages.po").write_text(head + 'msgid "Meter"\nmsgstr "计量器具"\n', "utf-8")
    (folder / "uploads.po").write_text(head + 'msgid "Upload"\nmsgstr "上传"\n', "utf-8")
    monkeypatch.setattr(i18n, "files", lambda _package: tmp_path / "carbonlink_api")
    catalogue = i18n.load_catalogues()["zh"]
    assert (catalogue.gettext("Meter"), catalogue.gettext("Upload")) == ("计量器具", "上传")
    (folder / "uploads.po").write_text(head + 'msgid "Meter"\nmsgstr "仪表"\n', "utf-8")
    with pytest.raises(ValueError, match=r"translated in both messages\.po and uploads\.po"):
        i18n.load_catalogues()
