"""Options and error handling shared by every command."""

from __future__ import annotations

import errno
import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import FieldProblem, InputError, PolicyKBError, PolicyNotChosenError
from ..json_input import DuplicateKeyError, loads_strict
from ..knowledge_base import KnowledgeBase
from ..knowledge_base import knowledge_base as resolve_knowledge_base
from ..text_input import NotUTF8Error, read_utf8

F = TypeVar("F", bound=Callable[..., Any])

format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)

policy_option = click.option(
    "--policy",
    default=None,
    help="Policy id (see `policykb policies`); needed when the knowledge base holds several.",
)

kb_option = click.option(
    "--kb",
    "kb_root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Knowledge base folder to use instead of the installed one.",
)


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else date.fromisoformat("bad")
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date as YYYY-MM-DD, such as 2026-04-01") from None


as_of_option = click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    callback=_as_of,
    default=None,
    help="Decide under the policy version in force on this date (default: today); an input's own "
    "request_date (an audit row's, a served order's authoredOn) comes first.",
)


def knowledge_base(kb_root: Path | None) -> KnowledgeBase:
    return resolve_knowledge_base(kb_root)


def chosen_policy(kb_root: Path | None, policy: str | None) -> str:
    """The policy of ``--policy``, or the knowledge base's only one; several need the option."""
    try:
        return knowledge_base(kb_root).choose_policy(policy)
    except PolicyNotChosenError as error:
        raise click.UsageError(f"give --policy: {error}") from None


class JSONError(click.ClickException):
    """An error of a ``--format json`` command: ``{"error": ..., "fields": [...]}`` on
    standard output, where the program reading the answer looks, and exit 1."""

    def __init__(self, message: str, fields: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.fields = fields

    def show(self, file: Any = None) -> None:
        print_json({"error": self.message, "fields": self.fields})


def library_errors(command: F) -> F:
    """Turn the library's errors into one clear message and exit 1, never a traceback; with
    ``--format json``, that message as JSON, each field's problem apart."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = kwargs.get("output_format") == "json"
        try:
            return command(*args, **kwargs)
        except InputError as error:
            message = f"invalid input: {error}"
            if as_json:
                fields = [{"field": problem.field, "message": problem.message} for problem in error.shown]
                raise JSONError(message, fields) from None
            raise click.ClickException(message) from None
        except PolicyKBError as error:
            raise (JSONError(str(error), []) if as_json else click.ClickException(str(error))) from None

    return wrapper  # type: ignore[return-value]


BROKEN_PIPE_EXIT = 128 + 13
"""Exit code when the reader of the output went away (as for a process ended by SIGPIPE)."""


def cannot_write(error: OSError, name: str) -> click.ClickException:
    """One clear message for an output that cannot be written (full disk, device error...)."""
    reason = error.strerror or os.strerror(error.errno or errno.EIO)
    return click.ClickException(f"cannot write {name}: {reason}")


def end_quietly_on_closed_output() -> None:
    """The reader of standard output went away (``| head``): nobody is left to tell, so
    exit at once, without a word."""
    silence_stdout()
    raise click.exceptions.Exit(BROKEN_PIPE_EXIT)


def silence_stdout() -> None:
    """Point standard output at /dev/null after a failed write, so that what it still holds
    is dropped: the error is told once, and the interpreter's last flush at exit does not
    try again (and print a traceback)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (a test's captured output)
        pass
    finally:
        os.close(devnull)


def read_json_object(source: click.File) -> object:
    """Parse a JSON document (UTF-8); duplicate keys are an error, not a silent overwrite."""
    try:
        return loads_strict(read_utf8(source))  # type: ignore[arg-type]
    except NotUTF8Error as error:
        raise click.ClickException(f"input is {error}") from None
    except json.JSONDecodeError as error:
        raise PolicyKBError(f"input is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})") from None
    except DuplicateKeyError as error:
        raise InputError([FieldProblem(error.key, "given more than once")]) from None


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
