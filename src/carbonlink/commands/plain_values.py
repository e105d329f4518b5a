"""Text and path values of a command converted without pydantic, for commands that must start fast.

Typer 0.29 converts every value typed on the command line through a pydantic ``TypeAdapter``;
loading pydantic and building the adapters costs about 0.08 s of CPU, more than the whole work
of ``carbonlink verify RECEIPT``. For a parameter of type ``str`` or ``Path`` (or a list of
them) the conversion is Python's own: ``str`` is kept as typed and ``Path(value)`` is what
pydantic returns for a path. The checks of a path option (``exists``, ``dir_okay``…) stay
Typer's own function, so values and error messages are the same as Typer's
(tests/test_cli_imports.py compares both on the same inputs). A parameter of any other type, or
a value that is not text, keeps Typer's conversion. The classes used here are Typer's internal
ones (typer 0.29, pinned in constraints.txt): the same tests fail if an upgrade changes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast, get_args, get_origin

from typer._click import Context
from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path
from typer.core import TyperArgument, TyperCommand, TyperOption

_PLAIN = (str, Path, bool)


@dataclass(frozen=True)
class PlainRuntimeParam(RuntimeParam):
    """Converts text to ``str`` or ``Path`` (one value or a list), as Typer would; for a flag,
    only builds nothing (its None or bool needs no conversion)."""

    item_type: type
    many: bool

    def _coerce_value(self, value: Any, param: Any, ctx: Context) -> Any:
        items = (value if isinstance(value, list | tuple) else [value]) if self.many else [value]
        if all(self._plain(item) for item in items):
            converted = [self._one(item, param, ctx) for item in items]
            return converted if self.many else converted[0]
        # A default given in code, or a path not written in its normal form: Typer's own way.
        return build_runtime_param(param.type_descriptor)._coerce_value(value, param, ctx)

    def _plain(self, value: object) -> bool:
        # A flag's value is None or a bool, which Typer takes as is; anything else is Typer's.
        if not isinstance(value, str) or self.item_type is bool:
            return False
        # Typer checks the Path (``a//b/`` is checked as ``a/b``) and names the text typed:
        # the same thing only when the text is the path's normal form.
        return self.item_type is str or str(Path(value)) == value

    def _one(self, value: str, param: Any, ctx: Context) -> Any:
        if self.item_type is str:
            return value
        # path_type=None: the text comes back as typed (or resolved, when asked).
        checked = coerce_cli_path(value, self.parameter_info, path_type=None, param=param, ctx=ctx)
        return Path(cast(str, checked))


def plain_runtime_param(param: object) -> PlainRuntimeParam | None:
    """The pydantic-free conversion of a Typer parameter, or None where Typer's is needed."""
    if not isinstance(param, TyperArgument | TyperOption):
        return None
    descriptor = param.type_descriptor
    annotation, info = descriptor.annotation, descriptor.parameter_info
    many = get_origin(annotation) is list
    item = get_args(annotation)[0] if many else annotation
    if item not in _PLAIN or descriptor.file_annotation is not None:
        return None
    if info.parser is not None:
        return None
    # A path given as "-", or converted to another class, takes Typer's own route.
    if item is Path and (info.allow_dash or info.path_type is not None):
        return None
    return PlainRuntimeParam(info, annotation, item_type=item, many=many)


def convert_without_pydantic(params: Iterable[object]) -> None:
    """Give each text, path or flag parameter the pydantic-free conversion."""
    for param in params:
        plain = plain_runtime_param(param)
        if plain is not None:
            param._runtime_param = plain  # type: ignore[attr-defined]


class PlainValuesCommand(TyperCommand):
    """A command whose text, path and flag values are converted without pydantic."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        # get_params: the parameters with the help option, made for this context.
        convert_without_pydantic(self.get_params(ctx))
        return super().parse_args(ctx, args)
