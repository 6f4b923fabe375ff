"""Plain ``--help`` text: value names a user reads (``TEXT``, ``INTEGER``, ``ADDRESS``), nothing for
a flag, ``ID`` rather than ``{ID}`` for a required argument, and no RST markup from the docstrings
the help is taken from (issue 16).

Typer renders an option's Python type as ``<str>``/``<bool>`` and a required argument as ``{ID}``;
:class:`PlainHelpGroup`, the root group of ``consortia``, gives every parameter of the command tree
the plain rendering below once, before the first command line is parsed.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from typer.core import TyperArgument, TyperGroup, TyperOption

_RST_LITERAL = re.compile(r"``([^`]+)``")
_RST_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`~?([^`]+)`")


def plain_text(text: str | None) -> str | None:
    """Help text without RST markup: ````x```` and ``:class:`x```` become x, and each paragraph's
    line breaks (from the docstring's layout) become spaces."""
    if not text:
        return text
    text = _RST_ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1], text)
    text = _RST_LITERAL.sub(r"\1", text)
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


_TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN"}


def value_name(param: TyperOption | TyperArgument, ctx: Any) -> str:
    """What a value of ``param`` is called in help: its metavar, its choices (a|b), or its type's
    name in capitals (TEXT, INTEGER, NUMBER, PATH)."""
    if param.metavar and isinstance(param, TyperOption):
        return param.metavar
    label = TyperOption.display_type(param, ctx).strip("<>")  # Typer's own label, e.g. <int>
    return label if "|" in label else _TYPE_NAMES.get(label, label.upper())


class PlainOption(TyperOption):
    """A Typer option whose help shows ``TEXT``-style value names and nothing for a flag."""

    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag or self.count:
            return None
        return value_name(self, ctx) + ("..." if self.nargs != 1 else "")


class PlainArgument(TyperArgument):
    """A Typer argument shown as ``NAME`` (``[NAME]`` when optional) in the usage line."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return value_name(self, ctx)

    def _usage_display_name(self) -> str:
        raw = self.display_name_raw.upper()
        name = raw if self.required else f"[{raw}]"
        return name + ("..." if self.nargs != 1 else "")


def make_help_plain(command: Any) -> None:
    """Give ``command`` and every command under it plain help (idempotent)."""
    command.help = plain_text(command.help)
    command.short_help = plain_text(command.short_help)
    params = list(command.params)
    if hasattr(command, "get_help_option"):  # made once and cached by the command
        params.append(command.get_help_option(SimpleNamespace(help_option_names=["--help"])))
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = PlainOption
        elif type(param) is TyperArgument:
            param.__class__ = PlainArgument
        if isinstance(param, (TyperOption, TyperArgument)):
            param.help = plain_text(param.help)
    for sub in getattr(command, "commands", {}).values():  # a group's commands
        make_help_plain(sub)


class PlainHelpGroup(TyperGroup):
    """The root group of ``consortia``: plain help for the whole tree (see the module's text)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        make_help_plain(self)
        return super().main(*args, **kwargs)
