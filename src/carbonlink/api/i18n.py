"""Interface languages: message catalogues (gettext .po files) and locale-aware formatting.

English is the source language of every label; each other language has its catalogue under
``locales/<lang>/LC_MESSAGES/``: ``messages.po`` and one ``.po`` file per area of the interface,
read in name order and merged, then compiled in memory when the app is created. A source string
translated in two files is refused, so an area's file never silently overrides another's.
Numbers, months and dates are formatted by Babel with the CLDR rules of the language.
"""

from __future__ import annotations

import decimal
import functools
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, datetime
from importlib.resources import files

from babel import Locale
from babel.dates import format_datetime, format_skeleton, get_day_names
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, format_scientific
from babel.support import NullTranslations, Translations

from carbonlink.domain.zones import zone_or_utc

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
BABEL_LOCALES = {"zh": "zh_Hans_CN", "en": "en_GB"}


def load_catalogues() -> dict[str, NullTranslations]:
    """The compiled catalogue of every language (English uses the source strings)."""
    out: dict[str, NullTranslations] = {"en": NullTranslations()}
    for lang in LANGUAGES:
        if lang == "en":
            continue
        sources = _catalogue_sources(lang)
        if sources:
            out[lang] = Translations(io.BytesIO(_compiled(lang, sources)))
    return out


def read_catalogue(lang: str) -> Catalog | None:
    """Every ``.po`` file of one language merged into one catalogue (None when there is none)."""
    sources = _catalogue_sources(lang)
    return _merged(lang, sources) if sources else None


def _catalogue_sources(lang: str) -> tuple[tuple[str, bytes], ...]:
    """The name and content of each ``.po`` file of one language, in name order."""
    folder = files("carbonlink.api") / "locales" / lang / "LC_MESSAGES"
    if not folder.is_dir():
        return ()
    paths = sorted((p for p in folder.iterdir() if p.name.endswith(".po")), key=lambda p: p.name)
    return tuple((path.name, path.read_bytes()) for path in paths)


@functools.lru_cache(maxsize=8)
def _compiled(lang: str, sources: tuple[tuple[str, bytes], ...]) -> bytes:
    """The merged catalogue compiled to .mo, parsed once per content of the files.

    Every app (and every test's app) loads the catalogues; parsing and compiling the .po files
    takes longer than the rest of creating an app. Keyed by the files' content, so an edited
    file is read again.
    """
    buffer = io.BytesIO()
    write_mo(buffer, _merged(lang, sources))
    return buffer.getvalue()


def _merged(lang: str, sources: tuple[tuple[str, bytes], ...]) -> Catalog:
    merged = Catalog(locale=lang)
    origin: dict[object, str] = {}
    for name, content in sources:
        part = read_po(io.BytesIO(content), locale=lang)
        for message in part:
            if not message.id:
                continue
            key = message.id if message.context is None else (message.context, message.id)
            if key in origin:
                raise ValueError(
                    f"{lang}: {message.id!r} is translated in both {origin[key]} and "
                    f"{name}; keep it in one file"
                )
            origin[key] = name
            merged[message.id] = message
    return merged


@dataclass(frozen=True)
class Formatter:
    """Translation and number/date formatting for one language."""

    lang: str
    gettext: Callable[[str], str]

    @property
    def locale(self) -> Locale:
        return Locale.parse(BABEL_LOCALES[self.lang])

    def _decimal(self, value: float, pattern: str) -> str:
        # A stored value may be anything a double holds: infinity after a sum, or too many
        # digits for the pattern's fixed point (1e308); those are shown, never an error.
        if not math.isfinite(value):
            return "–" if math.isnan(value) else ("∞" if value > 0 else "-∞")
        try:
            return format_decimal(value, format=pattern, locale=self.locale)
        except decimal.InvalidOperation:
            return format_scientific(value, format="0.###E0", locale=self.locale)

    def number(self, value: float, digits: int = 1) -> str:
        return self._decimal(value, "#,##0" + ("." + "0" * digits if digits else ""))

    def factor(self, value: float) -> str:
        """An emission factor with the digits it was given (up to eight decimals)."""
        return self._decimal(value, "#,##0.########")

    def percent(self, value: float) -> str:
        if not math.isfinite(value):
            return self._decimal(value, "")
        return format_percent(value, format="#,##0.0%", locale=self.locale)

    def month(self, month: str) -> str:
        """'YYYY-MM' as the language writes a month; a year past the calendar's as it is."""
        year_text, month_text = month.rsplit("-", 1)
        year, mon = int(year_text), int(month_text)
        if not MINYEAR <= year <= MAXYEAR:
            return month
        return format_skeleton("yMMM", datetime(year, mon, 1), locale=self.locale)

    def weekdays(self) -> list[str]:
        """The names of the days of the week, Monday first, as the language writes them."""
        names = get_day_names("wide", locale=self.locale)
        return [str(names[day]) for day in range(7)]

    def datetime(self, ts: datetime, tz: str | None = None) -> str:
        zone = zone_or_utc(tz) if tz else None
        try:
            return format_datetime(ts, format="medium", tzinfo=zone, locale=self.locale)
        except (OverflowError, ValueError):
            # An instant at the calendar's edge cannot be moved into the zone: shown in UTC.
            return format_datetime(ts, format="medium", tzinfo=UTC, locale=self.locale) + " UTC"


def formatter(catalogues: dict[str, NullTranslations], lang: str) -> Formatter:
    """The formatter of ``lang`` (falling back to the default language)."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    return Formatter(lang, catalogues.get(lang, NullTranslations()).gettext)
