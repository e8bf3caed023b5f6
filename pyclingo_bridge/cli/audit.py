"""``policykb audit``: decide every row of an activity extract, as ``query`` decides one."""

from __future__ import annotations

import codecs
import errno
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click

from ..audit import INPUT_FORMATS, AuditInterrupted, AuditSettings, format_of, stop_on_signals, summary_text
from ..audit import audit as run_audit
from ..audit.routed import (
    DEFAULT_SYSTEM,
    audit_by_version,
    audit_routed,
    dates_choose_versions,
    routed_summary,
)
from ..engine import engine_for
from ..provenance import file_sha256, run_manifest
from ..versions import policy_versions
from .options import (
    as_of_option,
    cannot_write,
    chosen_policy,
    end_quietly_on_closed_output,
    kb_option,
    library_errors,
    policy_option,
    silence_stdout,
)


@click.command()
# Bytes that are not UTF-8 are kept as surrogates and make their row an error row (reader.py).
@click.argument("input_file", metavar="INPUT|-", type=click.File("r", encoding="utf-8-sig", errors="surrogateescape"))
# Opened at once (not lazily): an output that cannot be written stops the run before it starts.
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8", lazy=False), default="-", help="JSONL output file (default: stdout)."
)
@policy_option
@click.option(
    "--input-format",
    type=click.Choice(INPUT_FORMATS),
    default=None,
    help="jsonl or csv; by default from INPUT's extension (.jsonl, .ndjson, .csv); stdin is jsonl.",
)
@click.option("--explain", is_flag=True, help="Add each row's explanation (rules fired, why not).")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write a self-contained HTML report (counts, chart, rows to follow up).",
)
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Processes to decide with (default: every core).")
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Write the run manifest (input hash, row counts, versions, times) here; by default beside -o FILE.",
)
@as_of_option
@click.option(
    "--procedure-column",
    metavar="NAME",
    default=None,
    help="Route each row to the policy that governs the procedure code in this column (instead of --policy).",
)
@click.option(
    "--procedure-system",
    metavar="SYSTEM",
    default=DEFAULT_SYSTEM,
    show_default=True,
    help="The code system of --procedure-column, as the KB names it (opcs4, snomed) or its FHIR URI.",
)
@kb_option
@library_errors
def audit(
    input_file: TextIO,
    output: TextIO,
    policy: str | None,
    input_format: str | None,
    explain: bool,
    report: Path | None,
    jobs: int | None,
    manifest: Path | None,
    as_of: date | None,
    procedure_column: str | None,
    procedure_system: str,
    kb_root: Path | None,
) -> None:
    """Decide every row of an extract (JSONL, or CSV with the fact names as header).

    Writes one JSONL line per input row, in input order: row, id (the row number when the
    row has none), status, clauses, missing; a malformed row gets an error line naming the
    row and field, and the run goes on. CSV: lists are ';'-separated, [] is the empty list,
    an empty cell is an absent fact. A summary goes to stderr. Exit 0 when every row was
    decided, 1 when any row failed or the output could not be written. Interrupted (Ctrl-C,
    SIGTERM), the output so far is whole lines in input order and the exit code is 130
    (SIGINT) or 143 (SIGTERM).
    """
    name = getattr(input_file, "name", "<stdin>")
    if not isinstance(name, str) or name == "-":
        name = "<stdin>"
    # stdin has no name to go by: it takes the query contract's JSON, one object per line.
    chosen = input_format or format_of(name) or ("jsonl" if name == "<stdin>" else None)
    if chosen is None:
        raise click.UsageError(f"cannot tell the format of {name!r} from its name; use --input-format jsonl|csv")
    if report is not None:
        _check_writable(report)
    if procedure_column is not None:
        if policy is not None:
            raise click.UsageError("give --policy or --procedure-column, not both")
        if report is not None:
            raise click.UsageError("--report reports one policy: audit its rows with --policy")
        _routed(input_file, output, name, chosen, explain, jobs, procedure_column, procedure_system, kb_root, as_of)
        return
    engine = engine_for(chosen_policy(kb_root, policy), kb_root, as_of=as_of)
    # Each row under the version in force on its request_date (else --as-of, else today),
    # grouped by version; a policy of one version in force on every date needs no grouping.
    dated = dates_choose_versions(kb_root, engine.policy.id)
    settings = AuditSettings(engine.policy.id, kb_root, explain, chosen,  # type: ignore[arg-type]
                             version=None if dated else engine.version.number, as_of=as_of, saved_table=True)
    manifest = manifest or _beside(output)
    if manifest is not None:
        _check_writable(manifest, "the manifest")
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    out = _Output(output)
    with _stopped_by_signals(out), _progress(name, input_file) as progress:
        if dated:
            by_version = audit_by_version(input_file, settings, out.write, jobs=jobs, direct_output=out.direct())
            tally = by_version.total
            found = {number for _, number in by_version.by_policy}
            applied = [v.number for v in policy_versions(engine.kb, engine.policy.id) if v.number in found]
        else:
            tally = run_audit(input_file, settings, out.write, jobs=jobs, progress=progress, direct_output=out.direct(), direct_input=True)
            applied = [engine.version.number]
    seconds = time.perf_counter() - started
    engines = [engine_for(engine.policy.id, kb_root, number) for number in applied] or [engine]
    if len(engines) == 1:
        click.echo(summary_text(tally, engines[0].policy.reference, engines[0].version.number, seconds), err=True, nl=False)
    else:
        each_under = f"the version of {engine.policy.reference} in force on its request_date (else --as-of, else today)"
        click.echo(routed_summary(by_version, each_under, seconds), err=True, nl=False)
    if report is not None:
        try:
            from ..audit.report import write_report  # the HTML report's modules, only when asked for

            write_report(report, tally, engines[-1].policy)
        except OSError as error:
            raise cannot_write(error, f"the report {report}") from None
        click.echo(f"report written to {report}", err=True)
    if manifest is not None:
        source = input_file.name if name != "<stdin>" else None
        written = run_manifest(
            name, file_sha256(source) if source else None, tally.rows, tally.errors, tally.statuses,
            [applied_engine.provenance for applied_engine in engines], started_at, datetime.now(UTC),
        )
        try:
            manifest.write_text(json.dumps(written, indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            raise cannot_write(error, f"the manifest {manifest}") from None
    if tally.errors:
        raise click.ClickException(f"{tally.errors:,} of {tally.rows:,} rows could not be decided (see their error lines)")


def _beside(output: TextIO) -> Path | None:
    """``OUT.manifest.json`` beside an output file; None for standard output."""
    name = getattr(output, "name", "-")
    if not isinstance(name, str) or name in ("-", "<stdout>") or output is sys.stdout or not Path(name).is_file():
        return None  # standard output, or a device or pipe (-o /dev/null): nowhere to put a file beside
    return Path(name).with_name(Path(name).name + ".manifest.json")


def _routed(
    input_file: TextIO, output: TextIO, name: str, input_format: str, explain: bool, jobs: int | None,
    column: str, system: str, kb_root: Path | None, as_of: date | None,
) -> None:
    """``audit --procedure-column``: each row under the policy that governs its code (its
    version in force on ``as_of``, default today)."""
    settings = AuditSettings("", kb_root, explain, input_format, as_of=as_of)  # type: ignore[arg-type]
    started = time.perf_counter()
    out = _Output(output)
    with _stopped_by_signals(out):
        result = audit_routed(input_file, settings, out.write, column, system, jobs=jobs)
    summary = routed_summary(result, f"the policy that governs its {column} code", time.perf_counter() - started)
    click.echo(summary, err=True, nl=False)
    tally = result.total
    if tally.errors:
        raise click.ClickException(f"{tally.errors:,} of {tally.rows:,} rows could not be decided (see their error lines)")


def _check_writable(path: Path, what: str = "the report") -> None:
    """Refuse, before any row is decided, a report path that could not be written at the end."""
    if path.is_dir():
        code = errno.EISDIR
    elif not path.parent.is_dir():
        code = errno.ENOENT
    elif not os.access(path if path.exists() else path.parent, os.W_OK):
        code = errno.EACCES
    else:
        return
    raise cannot_write(OSError(code, os.strerror(code)), f"{what} {path}")


@contextmanager
def _stopped_by_signals(out: _Output) -> Iterator[None]:
    """Run the audit inside; SIGINT or SIGTERM ends it with whole lines written, in input order,
    says how many on stderr and exits 130 or 143."""
    try:
        with stop_on_signals():
            yield
            out.flush()
    except AuditInterrupted as stop:
        out.flush_after_stop()
        click.echo(
            f"interrupted ({stop.signal_name}): {stop.rows:,} rows written to {out.name}, whole lines in input"
            " order; the rest of the extract was not decided",
            err=True,
        )
        raise click.exceptions.Exit(stop.exit_code) from None


class _Output:
    """The JSONL output: a write that fails is one clear error; a reader gone away (``| head``)
    ends the run quietly."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        name = getattr(stream, "name", "-")
        self.is_stdout = name in ("<stdout>", "-") or stream is sys.stdout
        self.name = "standard output" if self.is_stdout else str(name)

    def write(self, text: str) -> None:
        try:
            self.stream.write(text)
        except OSError as error:
            self._failed(error)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError as error:
            self._failed(error)

    def direct(self) -> _Output | None:
        """This output, when the audit's workers may write to its file descriptor themselves:
        a file or pipe taking UTF-8, with nothing buffered (flushed here)."""
        try:
            fd = self.stream.fileno()
        except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both
            return None
        encoding = getattr(self.stream, "encoding", None)
        if not isinstance(encoding, str) or codecs.lookup(encoding).name != "utf-8" or fd < 0:
            return None
        self.flush()
        return self

    def fileno(self) -> int:
        return self.stream.fileno()

    def failed(self, error: OSError) -> NoReturn:
        self._failed(error)

    def flush_after_stop(self) -> None:
        """Flush what was written before a stop; a failure now changes nothing the user can do."""
        try:
            self.stream.flush()
        except (OSError, ValueError):
            if self.is_stdout:
                silence_stdout()

    def _failed(self, error: OSError) -> NoReturn:
        if self.is_stdout:
            if isinstance(error, BrokenPipeError):
                end_quietly_on_closed_output()
            silence_stdout()
        raise cannot_write(error, self.name) from None


class _progress:
    """Progress on stderr, only when stderr is a terminal: a bar over the bytes of a file
    whose size is known, else a live count of rows."""

    def __init__(self, name: str, source: TextIO) -> None:
        self.name = name
        self.rows = 0
        self.live = sys.stderr.isatty()
        self.raw: Any = getattr(source, "buffer", None)
        self.size = _size(self.raw)
        self.bar: Any = None

    def __enter__(self) -> Callable[[int], None] | None:
        if not self.live:
            return None
        if self.size:
            self.bar = click.progressbar(length=self.size, label=f"auditing {self.name}", file=sys.stderr)
            self.bar.__enter__()
        return self.update

    def update(self, rows: int) -> None:
        self.rows += rows
        if self.bar is not None:
            # The raw position runs a little ahead of the rows decided (read-ahead): close enough.
            self.bar.update(min(self.raw.tell(), self.size) - self.bar.pos)
        else:
            click.echo(f"\rauditing {self.name}: {self.rows:,} rows", err=True, nl=False)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        elif self.live and self.rows:
            click.echo("\r\033[K", err=True, nl=False)  # clear the line before the summary


def _size(raw: Any) -> int:
    try:
        return os.fstat(raw.fileno()).st_size if raw is not None and raw.seekable() else 0
    except (OSError, AttributeError, ValueError):
        return 0
