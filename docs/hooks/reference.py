"""MkDocs hook: the reference pages, generated from the code and the data at every build.

They are written into ``docs/reference/`` (git-ignored, never edited by hand):

- ``reference/cli.md``: every command of the Typer app (``typer.main.get_command``), its usage,
  help and options;
- ``reference/settings.md``: every field of ``carbonlink.settings.Settings`` with its
  ``CARBONLINK_*`` variable, default and description;
- ``reference/rest.md`` and ``reference/openapi.json``: the OpenAPI document of
  ``create_app(settings)`` (built on a throw-away workspace) and its operations by tag;
- ``reference/factor-library.md``: every reference table under ``src/carbonlink/data``, row by
  row, with its sources and licences.

Nothing here is copied by hand, so these pages cannot drift from the code. Each page is built
once per process (the Chinese build of the site reuses it).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from enum import Enum
from functools import cache
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority

GENERATED_NOTE = (
    '!!! info "Generated"\n    This page is generated from {what} each time the manual is '
    "built; it cannot differ from the code it describes.\n"
)


@event_priority(100)
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Write the generated pages into ``docs/reference/`` (git-ignored) before files are read.

    As ordinary files of the docs folder they are built like every other page, in each
    language of the site. A file is rewritten only when its content changed, so that
    ``mkdocs serve`` does not rebuild for nothing.
    """
    docs = Path(config.docs_dir)
    for path, content in generated_pages().items():
        target = docs / path
        data = content.encode("utf-8") if isinstance(content, str) else content
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(target)
    return config


@cache
def generated_pages() -> dict[str, str | bytes]:
    spec = openapi_document()
    return {
        "reference/cli.md": cli_page(),
        "reference/settings.md": settings_page(),
        "reference/rest.md": rest_page(spec),
        "reference/openapi.json": json.dumps(spec, indent=2, ensure_ascii=False) + "\n",
        "reference/factor-library.md": factor_library_page(),
    }


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    return f"`{text}`" if text else ""


# --- command line -------------------------------------------------------------------------------


def cli_page() -> str:
    import typer

    from carbonlink.cli import app

    root = typer.main.get_command(app)
    out = [
        "# Command-line reference\n",
        GENERATED_NOTE.format(what="the `carbonlink` command's own definition"),
        "Every command reads its settings from `CARBONLINK_*` variables (see the "
        "[settings reference](settings.md)). Errors print one line naming the record and "
        "what to do, and exit with status 2.\n",
    ]
    commands: list[tuple[str, Any, Any]] = []

    # Typer carries its own copy of Click, so commands are recognised by what they offer.
    def walk(command: Any, name: str, parent: Any) -> None:
        ctx = command.context_class(command, info_name=name, parent=parent)
        commands.append((ctx.command_path, command, ctx))
        if hasattr(command, "list_commands"):
            for sub_name in command.list_commands(ctx):
                sub = command.get_command(ctx, sub_name)
                if sub is not None and not sub.hidden:
                    walk(sub, sub_name, ctx)

    walk(root, "carbonlink", None)
    out.append("## Commands\n")
    out.append(
        _table(
            ["command", "what it does"],
            (
                [f"[`{path}`](#{_anchor(path)})", cmd.get_short_help_str(200)]
                for path, cmd, _ in commands
            ),
        )
    )
    for path, command, ctx in commands:
        out.append(f"## `{path}` {{#{_anchor(path)}}}\n")
        pieces = " ".join(command.collect_usage_pieces(ctx))
        out.append(f"```text\n{path} {pieces}\n```\n")
        if command.help:
            out.append(_help_text(command.help) + "\n")
        if hasattr(command, "list_commands"):
            continue
        rows = []
        for param in command.get_params(ctx):
            if param.name == "help":
                continue
            if param.param_type_name == "argument":
                name = str(param.metavar or param.name).upper()
                kind = "argument" + ("" if param.required else ", optional")
            else:
                name = ", ".join([*param.opts, *param.secondary_opts])
                kind = "option" + (", required" if param.required else "")
            shown = "" if param.required else _default_text(param.default)
            rows.append(
                [
                    _code(name),
                    kind + (", repeatable" if param.multiple else ""),
                    _type_name(param),
                    _code(shown),
                    param.help or "",
                ]
            )
        if rows:
            out.append(_table(["parameter", "kind", "type", "default", "meaning"], rows))
    return "\n".join(out)


def _default_text(default: Any) -> str:
    if default is None or callable(default) or default in ((), []):
        return ""
    if isinstance(default, Enum):
        return str(default.value)
    if isinstance(default, Path | bool | int | float):
        return str(default)
    return repr(default)


def _type_name(param: Any) -> str:
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    if annotation is None:
        return ""
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("pathlib.", "").replace("typing.", "")


def _anchor(path: str) -> str:
    return path.replace(" ", "-")


def _help_text(text: str) -> str:
    # Click marks paragraphs that must not be rewrapped with \b; Markdown needs none of it.
    return "\n".join(line for line in text.splitlines() if line.strip() != "\b").strip()


# --- settings ----------------------------------------------------------------------------------


def settings_page() -> str:
    from pydantic import SecretStr

    from carbonlink.settings import Settings

    prefix = Settings.model_config.get("env_prefix", "")
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, SecretStr):
            shown = "a development placeholder (refused in production)"
        elif default is None:
            shown = "empty"
        else:
            shown = _code(str(default))
        annotation = getattr(field.annotation, "__name__", None) or str(field.annotation)
        rows.append(
            [
                _code(name),
                _code(f"{prefix}{name}".upper()),
                _code(annotation.replace("typing.", "").replace("pathlib.", "")),
                shown,
                field.description or "",
            ]
        )
    return "\n".join(
        [
            "# Settings reference\n",
            GENERATED_NOTE.format(what="the `Settings` model (`carbonlink.settings`)"),
            "Settings are read once, from environment variables (prefix `CARBONLINK_`), when a "
            "command starts or `create_app(settings)` builds the service, and passed down from "
            "there. `carbonlink serve --workspace/--database` override the first two.\n",
            _table(["field", "environment variable", "type", "default", "meaning"], rows),
            "## Variables read by single commands\n",
            "These are not settings of the service: one command reads each directly from the "
            "environment, at the line shown.\n",
            _table(
                ["environment variable", "read in", "line"],
                (
                    [_code(name), _code(module), _code(line)]
                    for name, module, line in direct_environment_reads()
                    if name.removeprefix(prefix.upper()).lower() not in Settings.model_fields
                ),
            ),
        ]
    )


_ENV_READ = re.compile(r"environ(?:\.get\(|\[)\"(CARBONLINK_[A-Z0-9_]+)\"(?!\]\s*=)")


def direct_environment_reads() -> list[tuple[str, str, str]]:
    """(variable, module, source line) for each ``CARBONLINK_*`` variable the code reads itself."""
    package = Path(str(package_files("carbonlink")))
    found = []
    for path in sorted(package.rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            for match in _ENV_READ.finditer(line):
                module = "carbonlink." + ".".join(path.relative_to(package).with_suffix("").parts)
                found.append((match.group(1), module, line.strip()))
    return found


# --- REST API ----------------------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    from carbonlink.api import create_app
    from carbonlink.settings import Settings

    with tempfile.TemporaryDirectory(prefix="carbonlink-docs-") as folder:
        app = create_app(Settings(workspace=Path(folder), public_url="https://carbonlink.example"))
        try:
            return app.openapi()
        finally:
            app.state.ctx.engine.dispose()


_METHODS = ("get", "post", "put", "patch", "delete")


def rest_page(spec: dict[str, Any]) -> str:
    info = spec.get("info", {})
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, operations in spec.get("paths", {}).items():
        for method in _METHODS:
            if method in operations:
                operation = operations[method]
                for tag in operation.get("tags") or ["other"]:
                    by_tag.setdefault(tag, []).append((method.upper(), path, operation))
    out = [
        "# REST API reference\n",
        GENERATED_NOTE.format(what="the OpenAPI document of `create_app(settings)`"),
        f"{info.get('summary') or info.get('title', '')} OpenAPI {spec.get('openapi', '')}, "
        f"API version {info.get('version', '')}: **[openapi.json](openapi.json)** (the same "
        "document a running service serves at `/openapi.json`, with interactive docs at "
        "`/api/docs`).\n",
        "Authentication: a session cookie from logging in (writes then carry the CSRF token "
        "in `X-CSRF-Token`), an API key (`Authorization: Bearer clk_…` or `X-API-Key`), or an "
        "OAuth2 client-credentials token. Errors are RFC 9457 problem documents "
        "(`application/problem+json`).\n",
        "## Operations by tag\n",
        _table(
            ["tag", "operations"],
            ([f"[{tag}](#{_tag_anchor(tag)})", len(ops)] for tag, ops in sorted(by_tag.items())),
        ),
    ]
    for tag, operations in sorted(by_tag.items()):
        out.append(f"## {tag} {{#{_tag_anchor(tag)}}}\n")
        for method, path, operation in operations:
            out.append(f"### `{method} {path}`\n")
            if operation.get("summary"):
                out.append(f"**{operation['summary']}**\n")
            if operation.get("description"):
                out.append(operation["description"].strip() + "\n")
            params = [
                [
                    _code(param.get("name", "")),
                    param.get("in", ""),
                    "yes" if param.get("required") else "no",
                    _schema_name(param.get("schema", {})),
                    param.get("description", ""),
                ]
                for param in operation.get("parameters", [])
            ]
            if params:
                out.append(_table(["parameter", "in", "required", "type", "meaning"], params))
            body = operation.get("requestBody", {}).get("content", {})
            if body:
                kinds = ", ".join(
                    f"`{media}` {_schema_name(content.get('schema', {}))}"
                    for media, content in body.items()
                )
                out.append(f"Request body: {kinds}\n")
            responses = operation.get("responses", {})
            if responses:
                out.append(
                    "Responses: "
                    + "; ".join(
                        f"`{code}` {answer.get('description', '')}".strip()
                        for code, answer in responses.items()
                    )
                    + "\n"
                )
    schemas = spec.get("components", {}).get("schemas", {})
    if schemas:
        out.append("## Schemas\n")
        out.append(
            "The request and response schemas, with every field, are in "
            f"[openapi.json](openapi.json) under `components.schemas` ({len(schemas)} schemas):\n"
        )
        out.append(", ".join(f"`{name}`" for name in sorted(schemas)) + "\n")
    return "\n".join(out)


def _tag_anchor(tag: str) -> str:
    return "tag-" + "-".join(tag.lower().split())


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return "`" + schema["$ref"].rsplit("/", 1)[-1] + "`"
    if "anyOf" in schema:
        return " or ".join(_schema_name(option) for option in schema["anyOf"])
    if schema.get("type") == "array":
        return "array of " + _schema_name(schema.get("items", {}))
    return str(schema.get("type", "object"))


# --- reference data ----------------------------------------------------------------------------

_SOURCE_COLUMNS = ("document", "source", "dataset")
_SECTIONS: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    (
        "Emission factors",
        "Factor tables loaded by the factor library (`data/factors/`); "
        "columns explained in [Factor tables](../factors.md).",
        lambda p: p.startswith("factors/"),
    ),
    (
        "Global warming potentials",
        "GWP-100 values per IPCC assessment report.",
        lambda p: p == "gwp100.csv",
    ),
    (
        "EU CBAM",
        "Constants, default-value mark-ups and goods categories of the CBAM "
        "calculation ([EU CBAM](../cbam.md)).",
        lambda p: p.startswith("cbam/"),
    ),
    (
        "Other reference tables",
        "Fuels and their names, refrigerant blends, uncertainty "
        "defaults, Chinese names and the AHP random index.",
        lambda p: "/" not in p or (p.startswith("indices/") and "/examples/" not in p),
    ),
    (
        "Example index data",
        "Indicator data of the shipped example indices ([Development indices](../indices.md)).",
        lambda p: p.startswith("indices/examples/"),
    ),
)


def data_folder() -> Path:
    return Path(str(package_files("carbonlink") / "data"))


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """A data CSV's header and rows; comment lines (``#``) are skipped."""
    text = path.read_text(encoding="utf-8-sig")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    return rows[0], [row for row in rows[1:] if row]


def factor_library_page() -> str:
    folder = data_folder()
    tables = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.csv"))
    out = [
        "# Factor library and reference data\n",
        GENERATED_NOTE.format(what="the CSV files under `src/carbonlink/data/`"),
        "Every value carbonlink computes with comes from one of these files; no factor is "
        "typed into the code. Each table lists the documents it cites and the terms under "
        "which the values are used, then every row as shipped.\n",
        _table(
            ["file", "rows"],
            (
                [f"[`{name}`](#{_file_anchor(name)})", len(read_table(folder / name)[1])]
                for name in tables
            ),
        ),
    ]
    placed: set[str] = set()
    for title, intro, belongs in _SECTIONS:
        members = [name for name in tables if belongs(name) and name not in placed]
        if not members:
            continue
        placed.update(members)
        out.append(f"## {title}\n")
        out.append(intro + "\n")
        for name in members:
            out.append(_data_table(name, *read_table(folder / name)))
    missing = [name for name in tables if name not in placed]
    for name in missing:
        out.append(_data_table(name, *read_table(folder / name)))
    return "\n".join(out)


def _file_anchor(name: str) -> str:
    return "data-" + name.replace("/", "-").replace(".", "-").replace("_", "-")


def _data_table(name: str, header: list[str], rows: list[list[str]]) -> str:
    out = [f"### `{name}` {{#{_file_anchor(name)}}}\n", f"{len(rows)} rows.\n"]
    sources = sorted(
        {row[header.index(col)] for col in _SOURCE_COLUMNS if col in header for row in rows} - {""}
    )
    if sources:
        out.append("Sources:\n\n" + "\n".join(f"- {_cell(s)}" for s in sources) + "\n")
    if "licence" in header:
        licences = sorted({row[header.index("licence")] for row in rows} - {""})
        out.append("Licences and terms:\n\n" + "\n".join(f"- {_cell(s)}" for s in licences) + "\n")
    out.append(_table([f"`{col}`" for col in header], rows))
    return "\n".join(out)
