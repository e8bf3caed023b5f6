"""Input text is UTF-8: what is not is one message naming the byte and where, never a traceback."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pyclingo_bridge.cli import main
from pyclingo_bridge.text_input import NotUTF8Error, decode_utf8

from .conftest import patient

FACTS = json.dumps(patient())
BUNDLE = Path(__file__).resolve().parent.parent / "examples" / "fhir"

NOT_UTF8 = [
    # name, bytes, the message
    ("Latin-1", '{"setting": "café"}'.encode("latin-1"), "not UTF-8 text: byte 0xE9 at offset 16 (line 1, column 17)"),
    ("Latin-1 on a later line", '{\n  "setting": "mcas",\n  "x": "é"\n}'.encode("latin-1"),
     "not UTF-8 text: byte 0xE9 at offset 31 (line 3, column 9)"),
    ("after a multi-byte character: the column counts characters", b'{"\xc3\xa9": "\xe9"}',
     "not UTF-8 text: byte 0xE9 at offset 8 (line 1, column 8)"),
    ("after a UTF-8 byte-order mark: the offset counts it", codecs.BOM_UTF8 + b'{"a": "\xe9"}',
     "not UTF-8 text: byte 0xE9 at offset 10 (line 1, column 8)"),
    ("UTF-16 LE", FACTS.encode("utf-16"), "UTF-16 text (it starts with the byte-order mark FF FE), not UTF-8: save it as UTF-8"),
    ("UTF-16 BE", codecs.BOM_UTF16_BE + FACTS.encode("utf-16-be"),
     "UTF-16 text (it starts with the byte-order mark FE FF), not UTF-8: save it as UTF-8"),
    ("UTF-16 without a byte-order mark", FACTS.encode("utf-16-le"),
     "not UTF-8 text: byte 0x00 (NUL) at offset 1 (line 1, column 2); UTF-16 text or binary data?"),
    ("binary", bytes(range(256)), "not UTF-8 text: byte 0x00 (NUL) at offset 0 (line 1, column 1); UTF-16 text or binary data?"),
    ("binary without NUL", b"\x89PNG\r\n", "not UTF-8 text: byte 0x89 at offset 0 (line 1, column 1)"),
]


@pytest.mark.parametrize(("data", "message"), [c[1:] for c in NOT_UTF8], ids=[c[0] for c in NOT_UTF8])
def test_text_that_is_not_utf8_names_the_byte_and_where(data: bytes, message: str) -> None:
    with pytest.raises(NotUTF8Error) as raised:
        decode_utf8(data)
    assert str(raised.value) == message


@pytest.mark.parametrize("fhir", [False, True], ids=["query", "query --fhir"])
@pytest.mark.parametrize(("data", "message"), [c[1:] for c in NOT_UTF8], ids=[c[0] for c in NOT_UTF8])
def test_query_on_input_that_is_not_utf8_is_one_message_and_exit_1(
    tmp_path: Path, data: bytes, message: str, fhir: bool
) -> None:
    """The fault: a traceback (UnicodeDecodeError) for Latin-1, UTF-16 or binary input."""
    source = tmp_path / "facts.json"
    source.write_bytes(data)
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", str(source), *(["--fhir"] if fhir else [])])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"Error: input is {message}\n")
    piped = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "-", *(["--fhir"] if fhir else [])], input=data)
    assert (piped.exit_code, piped.stderr) == (1, f"Error: input is {message}\n")


def test_a_utf8_byte_order_mark_is_accepted_by_query(tmp_path: Path) -> None:
    """The fault: query refused a BOM that audit accepted."""
    plain, with_bom = tmp_path / "plain.json", tmp_path / "bom.json"
    plain.write_text(FACTS)
    with_bom.write_bytes(codecs.BOM_UTF8 + FACTS.encode())
    expected = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", str(plain), "--format", "json"])
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", str(with_bom), "--format", "json"])
    assert (result.exit_code, result.stdout) == (0, expected.stdout)
    assert json.loads(result.stdout)["status"] == "commissioned"


def test_a_utf8_byte_order_mark_is_accepted_by_query_fhir(tmp_path: Path) -> None:
    bundle = BUNDLE / "sciatica-bundle.json"
    with_bom = tmp_path / "bundle.json"
    with_bom.write_bytes(codecs.BOM_UTF8 + bundle.read_bytes())
    expected = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "--fhir", str(bundle), "--format", "json"])
    result = CliRunner().invoke(main, ["query", "--policy", "CMICB_Clin086", "--fhir", str(with_bom), "--format", "json"])
    assert (result.exit_code, result.stdout) == (0, expected.stdout) and expected.exit_code == 0


def test_utf8_text_reads_as_it_is() -> None:
    assert decode_utf8('{"setting": "café ✓"}'.encode()) == '{"setting": "café ✓"}'
    assert decode_utf8(codecs.BOM_UTF8 + b"{}") == "{}"


def test_query_reading_latin1_from_a_real_pipe_is_one_message() -> None:
    """The real stdin (not CliRunner's): its bytes are read, not decoded by the locale."""
    result = subprocess.run(
        [sys.executable, "-m", "pyclingo_bridge", "query", "--policy", "CMICB_Clin086", "-"],
        input='{"setting": "café"}'.encode("latin-1"), capture_output=True, cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "LC_ALL": "C", "PYTHONIOENCODING": "latin-1"}, check=False, timeout=60,
    )
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr == b"Error: input is not UTF-8 text: byte 0xE9 at offset 16 (line 1, column 17)\n"
