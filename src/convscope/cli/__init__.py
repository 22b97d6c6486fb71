"""The ``convscope`` command line: the Typer app, and the one place user errors become output.

Each command group lives in a module of its own (``labs``, ``inspect``, ``bench``, ``filters``,
``experiments``, ``quiz``, ``notebooks``, ``serve``); ``checks`` holds the checks of paths and
values shared by them, ``console`` the rich console they print with. Every error a user can
cause (a :class:`~convscope.engine.errors.ConvScopeError`, or a bad command-line parameter) prints
one line, ``error: <message>``, to stderr and exits with code 2, without a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
import typer.core

from .. import __version__
from ..engine.errors import ConvScopeError

EXIT_USAGE = 2


class _Group(typer.core.TyperGroup):
    """The top-level command group; it turns user errors into one ``error:`` line and exit 2."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, windows_expand_args: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False,
                                  windows_expand_args=windows_expand_args, **extra)
        except ConvScopeError as error:
            _fail(str(error))
        except BrokenPipeError:  # `convscope ... | head`: the reader left; say nothing more
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(1)
        except OSError as error:  # a path the checks before the work could not foresee: a full disk, a folder
            _fail(str(ConvScopeError(  # removed meanwhile, a file that vanished while being read
                f"the operating system refused: {error}", fix="check the path named, its permissions and the free "
                "disk space")))
        except MemoryError as error:
            _fail(str(ConvScopeError("not enough memory for this request", got=str(error)[:200] or "MemoryError",
                                     fix="use a smaller input")))
        except typer.TyperException as error:  # click's usage errors: bad option, missing argument, ...
            if type(error).__name__ == "NoArgsIsHelpError":
                error.show()  # type: ignore[attr-defined]
                sys.exit(EXIT_USAGE)
            ctx = getattr(error, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _fail(error.format_message() + hint, getattr(error, "exit_code", EXIT_USAGE))
        except typer.Abort:
            print("Aborted!", file=sys.stderr)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


def _value_label(option: typer.core.TyperOption, ctx: Any) -> str | None:
    """What --help shows after an option: nothing for a flag, the choices for a choice, else the
    option's metavar or its name in capitals (``--out OUT``), never typer's ``<bool>`` or ``<str>``."""
    if option.is_flag:
        return None
    if option.metavar is not None:
        return option.metavar
    if option.type_descriptor.is_choice:
        return _typer_value_label(option, ctx)
    return (option.name or "value").upper()


def _no_label(argument: typer.core.TyperArgument, ctx: Any) -> str | None:
    """An argument's name (``NAME``, ``IN``) already says what goes there: no ``<str>`` beside it."""
    return None


_typer_value_label = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _value_label  # type: ignore[method-assign,assignment]  # every --help
typer.core.TyperArgument.display_type_rich = _no_label  # type: ignore[method-assign,assignment]

app = typer.Typer(cls=_Group, name="convscope", no_args_is_help=True, add_completion=True,
                  pretty_exceptions_enable=False,
                  help="Show, compute and prove how convolution lets a network detect spatial patterns.")


def _version(value: bool) -> None:
    if value:
        print(f"convscope {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    """Show, compute and prove how convolution lets a network detect spatial patterns."""


def _register_commands() -> None:
    """Each command group's module adds its commands, in the order ``--help`` lists them."""
    from . import bench, experiments, filters, inspect, labs, notebooks, quiz, serve

    app.add_typer(labs.lab_app, name="lab")
    app.command()(inspect.size)
    app.command()(labs.tour)
    app.command()(bench.bench)
    for group in (serve, experiments, filters, inspect, notebooks, quiz):
        group.register(app)


_register_commands()
