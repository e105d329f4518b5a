"""Write an index build to disk: every table as CSV and XLSX, and a self-contained HTML report.

The report's charts are inline SVG drawn here, so the file opens offline and needs no script
from elsewhere: framework diagram, ranking bar chart, indicator profile of each unit (strengths
and weaknesses by indicator rank), correlation heat map and rank intervals.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from carbonlink.indices import diagnostics as dg
from carbonlink.indices.pipeline import IndexResult
from carbonlink.indices.uncertainty import UncertaintyResult

__all__ = ["Diagnostics", "diagnose", "write_outputs", "write_workbook"]

PALETTE = ["#2f6f4f", "#3b7ea1", "#c9822b", "#8a4f9e", "#b04a4a", "#5a7d2a", "#4a6fa5"]


@dataclass
class Diagnostics:
    """Diagnostic tables of one build."""

    stats: pd.DataFrame
    correlations: pd.DataFrame
    corr_flags: pd.DataFrame
    cronbach: pd.DataFrame
    pca: pd.DataFrame
    availability: pd.DataFrame


def diagnose(result: IndexResult) -> Diagnostics:
    """Statistics of the raw data, correlations and reliability of the normalised data."""
    fw = result.framework
    raw = result.datasets["Raw"]
    agg = result.datasets["Aggregated"]
    alpha_rows = []
    for lv in range(2, fw.n_levels + 1):
        for code in fw.codes[lv]:
            kids = fw.children[code]
            if len(kids) > 1:
                alpha_rows.append(
                    {"Group": code, "k": len(kids), "alpha": dg.cronbach_alpha(agg[kids])}
                )
    norm = result.datasets["Normalised"][fw.indicators]
    with_data = norm.loc[:, norm.notna().any()].dropna()
    pca = pd.DataFrame()
    if with_data.shape[0] > 2 and with_data.shape[1] > 1 and (with_data.std() > 0).all():
        pca = dg.pca_summary(with_data, np.ones(with_data.shape[1]))
    return Diagnostics(
        stats=dg.indicator_stats(raw),
        correlations=dg.correlations(agg),
        corr_flags=dg.correlation_flags(fw, norm),
        cronbach=pd.DataFrame(alpha_rows),
        pca=pca,
        availability=dg.data_availability(raw),
    )


# --- SVG ----------------------------------------------------------------------------------


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def svg_framework(result: IndexResult) -> str:
    """The framework as a left-to-right tree, one column per level."""
    fw = result.framework
    names = {n.code: n.name for n in result.spec.framework}
    names.update({i.code: i.name for i in result.spec.indicators})
    labels = {c: f"{c} — {names.get(c, '')}" for c in fw.level}
    row_h, gap, char_w = 26, 24, 6.2
    # Each level's boxes are as wide as its longest label (11 px text), within bounds.
    box_w = {
        lv: min(380, max(120, 12 + char_w * max(len(labels[c]) for c in fw.codes[lv])))
        for lv in range(1, fw.n_levels + 1)
    }
    n_rows = len(fw.indicators)
    y: dict[str, float] = {c: 20 + i * row_h for i, c in enumerate(fw.indicators)}
    for lv in range(2, fw.n_levels + 1):
        for c in fw.codes[lv]:
            kids = fw.children[c]
            y[c] = sum(y[k] for k in kids) / len(kids)
    x_of: dict[int, float] = {}
    x = 10.0
    for lv in range(fw.n_levels, 0, -1):
        x_of[lv] = x
        x += box_w[lv] + gap
    width = int(x)
    height = 30 + n_rows * row_h
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">']
    for c, p in fw.parent.items():
        if p is None:
            continue
        x1 = x_of[fw.level[c]]
        x2 = x_of[fw.level[p]] + box_w[fw.level[p]]
        parts.append(
            f'<path d="M{x1},{y[c]} C{x1 - 12},{y[c]} {x2 + 12},{y[p]} {x2},{y[p]}" '
            'fill="none" stroke="#999"/>'
        )
    for c, lv in fw.level.items():
        colour = PALETTE[(lv - 1) % len(PALETTE)]
        fits = int((box_w[lv] - 12) / char_w)
        label = labels[c] if len(labels[c]) <= fits else labels[c][: fits - 1] + "…"
        parts.append(
            f"<g><title>{_esc(labels[c])}</title>"
            f'<rect x="{x_of[lv]}" y="{y[c] - 10}" width="{box_w[lv]:.0f}" height="20" rx="4" '
            f'fill="{colour}" opacity="0.9"/>'
            f'<text x="{x_of[lv] + 6}" y="{y[c] + 4}" font-size="11" fill="#fff">'
            f"{_esc(label)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_ranking(table: pd.DataFrame) -> str:
    """Horizontal bars of the index score, best first."""
    rows = table.dropna(subset=["score"])
    hi = float(rows["score"].max()) if len(rows) else 1.0
    lo = min(0.0, float(rows["score"].min())) if len(rows) else 0.0
    span = (hi - lo) or 1.0
    bar_h, label_w, plot_w = 20, 170, 420
    height = 10 + bar_h * len(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 70}" '
        f'height="{height}">'
    ]
    for i, (u, r) in enumerate(rows.iterrows()):
        w = (float(r["score"]) - lo) / span * plot_w
        yy = 5 + i * bar_h
        parts.append(
            f'<text x="{label_w - 6}" y="{yy + 14}" font-size="12" text-anchor="end">'
            f"{int(r['rank'])}. {_esc(r['uName'])}</text>"
            f'<rect x="{label_w}" y="{yy + 2}" width="{w:.1f}" height="{bar_h - 5}" '
            f'fill="{PALETTE[0]}"><title>{_esc(u)}: {float(r["score"]):.4g}</title></rect>'
            f'<text x="{label_w + w + 4:.1f}" y="{yy + 14}" font-size="11">'
            f"{float(r['score']):.2f}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_profile(result: IndexResult, unit: str, ranks: pd.DataFrame | None = None) -> str:
    """A unit's normalised indicator values as bars, coloured by its rank on each indicator.

    ``ranks`` is ``result.ranks`` when the caller has it already (it is computed on each access).
    """
    return _profiles(result, result.ranks if ranks is None else ranks, [unit])[unit]


def _profiles(result: IndexResult, ranks: pd.DataFrame, units: list[str]) -> dict[str, str]:
    """Profile charts of ``units``, from arrays taken out of the frames once."""
    fw = result.framework
    normalised = result.datasets["Normalised"]
    all_norm = normalised[fw.indicators].to_numpy(float)
    all_ranks = ranks.loc[normalised.index, fw.indicators].to_numpy(float)
    rows = {u: i for i, u in enumerate(normalised.index)}
    n_units = len(ranks)
    lo, hi = float(np.nanmin(all_norm)), float(np.nanmax(all_norm))
    span = (hi - lo) or 1.0
    bar_h, label_w, plot_w = 18, 120, 300
    charts = {}
    for unit in units:
        norm, unit_ranks = all_norm[rows[unit]], all_ranks[rows[unit]]
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 90}" '
            f'height="{10 + bar_h * len(fw.indicators)}">'
        ]
        for i, code in enumerate(fw.indicators):
            v, rk = norm[i], unit_ranks[i]
            yy = 5 + i * bar_h
            if np.isnan(v):
                colour, w, txt = "#ccc", 0.0, "n/a"
            else:
                share = (rk - 1) / max(n_units - 1, 1)
                colour = "#2f7d4f" if share <= 0.25 else "#b04a4a" if share >= 0.75 else "#8c8c8c"
                w = (float(v) - lo) / span * plot_w
                txt = f"{float(v):.1f} (rank {int(rk)})"
            parts.append(
                f'<text x="{label_w - 6}" y="{yy + 13}" font-size="11" text-anchor="end">'
                f"{_esc(code)}</text>"
                f'<rect x="{label_w}" y="{yy + 2}" width="{w:.1f}" height="{bar_h - 5}" '
                f'fill="{colour}"/><text x="{label_w + w + 4:.1f}" y="{yy + 13}" font-size="10">'
                f"{txt}</text>"
            )
        parts.append("</svg>")
        charts[unit] = "".join(parts)
    return charts


def svg_heatmap(corr: pd.DataFrame) -> str:
    """Correlation matrix as coloured cells (blue negative, green positive)."""
    codes = list(corr.columns)
    cell, label = 26, 90
    size = label + cell * len(codes) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">']
    for j, c in enumerate(codes):
        x = label + j * cell + cell / 2
        parts.append(
            f'<text transform="translate({x},{label - 4}) rotate(-60)" font-size="10">'
            f"{_esc(c)}</text>"
        )
    values = corr.loc[codes, codes].to_numpy(float)
    for i, a in enumerate(codes):
        parts.append(
            f'<text x="{label - 4}" y="{label + i * cell + 17}" font-size="10" '
            f'text-anchor="end">{_esc(a)}</text>'
        )
        for j, b in enumerate(codes):
            r = float(values[i, j])
            if np.isnan(r):
                fill = "#eee"
            elif r >= 0:
                fill = f"rgb({int(255 - 180 * r)},{int(255 - 90 * r)},{int(255 - 160 * r)})"
            else:
                fill = f"rgb({int(255 + 170 * r)},{int(255 + 110 * r)},255)"
            parts.append(
                f'<rect x="{label + j * cell}" y="{label + i * cell}" width="{cell - 1}" '
                f'height="{cell - 1}" fill="{fill}"><title>{_esc(a)} × {_esc(b)}: '
                f"{r:.2f}</title></rect>"
            )
            if len(codes) <= 24 and not np.isnan(r):
                parts.append(
                    f'<text x="{label + j * cell + cell / 2}" y="{label + i * cell + 17}" '
                    f'font-size="8" text-anchor="middle">{r:.1f}</text>'
                )
    parts.append("</svg>")
    return "".join(parts)


def svg_rank_intervals(ua: UncertaintyResult, names: dict[str, str]) -> str:
    """For each unit: 5–95 % rank interval, median (dot) and nominal rank (tick)."""
    stats = ua.rank_stats.sort_values("Nominal")
    n = len(ua.units)
    row_h, label_w, plot_w = 20, 170, 420
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 40}" '
        f'height="{30 + row_h * len(stats)}">'
    ]

    def x(rank: float) -> float:
        return label_w + (rank - 1) / max(n - 1, 1) * plot_w

    for k in range(1, n + 1, max(1, n // 10)):
        parts.append(f'<text x="{x(k):.1f}" y="12" font-size="10" text-anchor="middle">{k}</text>')
    for i, (_, r) in enumerate(stats.iterrows()):
        yy = 25 + i * row_h
        parts.append(
            f'<text x="{label_w - 6}" y="{yy + 4}" font-size="11" text-anchor="end">'
            f"{_esc(names.get(r['uCode'], r['uCode']))}</text>"
            f'<line x1="{x(r["Q5"]):.1f}" x2="{x(r["Q95"]):.1f}" y1="{yy}" y2="{yy}" '
            f'stroke="#888" stroke-width="3"/>'
            f'<circle cx="{x(r["Median"]):.1f}" cy="{yy}" r="4" fill="{PALETTE[1]}"/>'
            f'<line x1="{x(r["Nominal"]):.1f}" x2="{x(r["Nominal"]):.1f}" y1="{yy - 7}" '
            f'y2="{yy + 7}" stroke="{PALETTE[4]}" stroke-width="2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


# --- files --------------------------------------------------------------------------------


def _tables(
    result: IndexResult, diag: Diagnostics, ua: UncertaintyResult | None
) -> dict[str, pd.DataFrame]:
    tables: dict[str, pd.DataFrame] = {"Index": result.index_table().reset_index()}
    tables["Scores"] = result.scores.reset_index()
    tables["Ranks"] = result.ranks.reset_index()
    for name, frame in result.datasets.items():
        tables[f"Data_{name}"] = frame.reset_index()
    tables["Weights"] = result.weights
    tables["Screening"] = result.screening.reset_index()
    if not result.treatment.empty:
        tables["Treatment"] = result.treatment
    if not result.ahp.empty:
        tables["AHP"] = result.ahp
    tables["Stats"] = diag.stats
    tables["Correlations"] = diag.correlations.reset_index(names="iCode")
    tables["CorrFlags"] = diag.corr_flags
    tables["Cronbach"] = diag.cronbach
    if not diag.pca.empty:
        tables["PCA"] = diag.pca
    tables["Availability"] = diag.availability.reset_index()
    if ua is not None:
        tables["RankIntervals"] = ua.rank_stats
        if ua.sensitivity is not None:
            tables["Sensitivity"] = ua.sensitivity
    return tables


def write_outputs(
    result: IndexResult, out_dir: Path, ua: UncertaintyResult | None = None
) -> dict[str, Path]:
    """Write CSV per table, one XLSX workbook and `report.html`; returns the main paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    diag = diagnose(result)
    tables = _tables(result, diag, ua)
    csv_dir = out_dir / "csv"
    csv_dir.mkdir(exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(csv_dir / f"{name}.csv", index=False)
    xlsx = out_dir / "index.xlsx"
    meta = pd.DataFrame(
        {
            "key": ["index", "version", "spec_sha256", "units", "indicators"],
            "value": [
                result.spec.name,
                result.spec.version,
                result.spec_hash,
                len(result.scores),
                len(result.framework.indicators),
            ],
        }
    )
    write_workbook(xlsx, {"About": meta, **tables})
    report = out_dir / "report.html"
    report.write_text(render_html(result, diag, ua), encoding="utf-8")
    return {"xlsx": xlsx, "csv": csv_dir, "html": report}


def write_workbook(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """One sheet per table (name cut to Excel's 31 characters), bold header, empty for missing.

    openpyxl's write-only mode streams rows to the file; building every cell as an object
    (what ``DataFrame.to_excel`` does) costs several times as much for the same workbook.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, frame in tables.items():
        sheet = book.create_sheet(name[:31])
        header = []
        for column in frame.columns:
            cell = WriteOnlyCell(sheet, value=str(column))
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        values = frame.astype(object).where(frame.notna(), None)
        for row in values.itertuples(index=False, name=None):
            sheet.append(row)
    book.save(path)
    return path


def render_html(result: IndexResult, diag: Diagnostics, ua: UncertaintyResult | None) -> str:
    """The HTML report (Jinja2 template with inline SVG)."""
    env = Environment(
        loader=PackageLoader("carbonlink.indices", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    table = result.index_table()
    fw = result.framework
    all_ranks = result.ranks  # computed on each access: once here
    charts = _profiles(result, all_ranks, list(table.index))
    profiles = []
    for unit in table.index:
        ranks = all_ranks.loc[unit, fw.indicators].dropna().sort_values()
        half = (len(table) + 1) / 2
        strengths = [c for c in ranks.index if ranks[c] <= half][:3]
        weaknesses = [c for c in ranks.index[::-1] if ranks[c] > half][:3]
        profiles.append(
            {
                "code": unit,
                "name": result.unit_names.get(unit, unit),
                "rank": table.loc[unit, "rank"],
                "score": table.loc[unit, "score"],
                "strengths": strengths,
                "weaknesses": weaknesses,
                "svg": Markup(charts[unit]),
            }
        )
    names = {i.code: i for i in result.spec.indicators}
    agg = result.datasets["Aggregated"]
    empty = [c for c in agg.columns if agg[c].isna().all()]
    label = result.spec.unit_label
    plural = label[:-1] + "ies" if label.endswith("y") else label + "s"
    return env.get_template("report.html.j2").render(
        units_word=plural,
        empty_codes=empty,
        spec=result.spec,
        spec_hash=result.spec_hash,
        table=table,
        framework_svg=Markup(svg_framework(result)),
        ranking_svg=Markup(svg_ranking(table)),
        heatmap_svg=Markup(svg_heatmap(diag.correlations)),
        intervals_svg=Markup(svg_rank_intervals(ua, result.unit_names)) if ua else None,
        ua=ua,
        profiles=profiles,
        indicators=names,
        weights=result.weights,
        diag=diag,
        treatment=result.treatment,
    )
