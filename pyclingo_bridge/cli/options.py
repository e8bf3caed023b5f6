"""Options and error handling shared by every command."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..errors import InputError, PolicyKBError, PolicyNotChosenError
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


def knowledge_base(kb_root: Path | None) -> KnowledgeBase:
    return resolve_knowledge_base(kb_root)


def chosen_policy(kb_root: Path | None, policy: str | None) -> str:
    """The policy of ``--policy``, or the knowledge base's only one; several need the option."""
    try:
        return knowledge_base(kb_root).choose_policy(policy)
    except PolicyNotChosenError as error:
        raise click.UsageError(f"give --policy: {error}") from None


def library_errors(command: F) -> F:
    """Turn the library's errors into one clear message and exit 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as error:
            raise click.ClickException(f"invalid input: {error}") from None
        except PolicyKBError as error:
            raise click.ClickException(str(error)) from None

    return wrapper  # type: ignore[return-value]


def read_json_object(source: click.File) -> object:
    """Parse a JSON document (UTF-8); duplicate keys are an error, not a silent overwrite."""
    try:
        return loads_strict(read_utf8(source))  # type: ignore[arg-type]
    except NotUTF8Error as error:
        raise click.ClickException(f"input is {error}") from None
    except json.JSONDecodeError as error:
        raise click.ClickException(
            f"input is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except DuplicateKeyError as error:
        raise click.ClickException(f"invalid input: {error.key}: given more than once") from None


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
