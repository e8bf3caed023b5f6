"""Input text is UTF-8: bytes that are not are refused with the byte and where it is.

Every front end that reads a whole document (``query``, ``query --fhir``, the CDS Hooks
service) decodes it here; ``audit`` reads line by line and checks each row
(``audit/reader.py``) and the start of the file (:func:`utf16_hint`). A UTF-8 byte-order
mark is accepted and dropped everywhere, as some Windows tools write one.
"""

from __future__ import annotations

import codecs
from typing import IO, Any

_UTF16_BOMS = {codecs.BOM_UTF16_LE: "FF FE", codecs.BOM_UTF16_BE: "FE FF"}


class NotUTF8Error(ValueError):
    """Input that is not UTF-8 text; the message says which byte and where."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def decode_utf8(data: bytes) -> str:
    """``data`` as text: UTF-8, with a leading byte-order mark dropped. A UTF-16 byte-order
    mark, a byte that is not UTF-8 and a NUL byte (never in JSON text; UTF-16 text is full
    of them) raise NotUTF8Error."""
    for bom, spelt in _UTF16_BOMS.items():
        if data.startswith(bom):
            raise NotUTF8Error(f"UTF-16 text (it starts with the byte-order mark {spelt}), not UTF-8: save it as UTF-8", 0)
    # Offsets count from the start of the file, byte-order mark included.
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    nul = data.find(b"\x00", start)
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as error:
        bad = start + error.start
        if not 0 <= nul < bad:
            raise NotUTF8Error(f"not UTF-8 text: byte 0x{data[bad]:02X} at {_where(data, bad)}", bad) from None
        text = ""
    if nul >= 0:  # the first byte that is wrong is named: here the NUL
        raise NotUTF8Error(f"not UTF-8 text: byte 0x00 (NUL) at {_where(data, nul)}; UTF-16 text or binary data?", nul)
    return text


def read_utf8(stream: IO[Any]) -> str:
    """The whole of a binary stream, or of a text stream's underlying bytes, decoded by
    :func:`decode_utf8` (a text stream decoded by its own encoding could fail mid-read
    with a traceback, or take Latin-1 for UTF-8)."""
    raw = getattr(stream, "buffer", stream)
    data = raw.read()
    return decode_utf8(data) if isinstance(data, bytes) else data


def _where(data: bytes, offset: int) -> str:
    """``offset N (line L, column C)``; the column counts characters, as JSON errors do."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace").removeprefix("\ufeff")) + 1
    line = data.count(b"\n", 0, offset) + 1
    return f"offset {offset} (line {line}, column {column})"


def utf16_hint(text: str) -> str | None:
    """Why the start of a text read as UTF-8 with ``errors="surrogateescape"`` is UTF-16,
    or None: a UTF-16 byte-order mark (read as two surrogates), or a line that is half NUL
    characters (UTF-16 of ASCII text)."""
    for bom, spelt in _UTF16_BOMS.items():
        if text.startswith(bom.decode("utf-8", "surrogateescape")):
            return f"UTF-16 text (it starts with the byte-order mark {spelt}), not UTF-8: save it as UTF-8"
    if _half_nul(text.rstrip("\r\n")):
        return "UTF-16 text (every other byte of its first line is NUL), not UTF-8: save it as UTF-8"
    return None


def _half_nul(line: str) -> bool:
    """Whether every other character of ``line`` is NUL and the others are not: ASCII text in
    UTF-16 (LE or BE). A line of other bytes, NULs included, is left to the row's own error."""
    if len(line) < 2:
        return False
    return any(
        nuls.count("\x00") == len(nuls) and "\x00" not in others
        for nuls, others in ((line[1::2], line[0::2]), (line[0::2], line[1::2]))
    )
