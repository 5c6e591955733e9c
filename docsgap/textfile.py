"""Reading the text files people hand docsgap (the config, JSON-lines input, patches, a new file's
content, an edited body): UTF-8, or one error line naming the file and the first bad byte."""

from __future__ import annotations

from pathlib import Path

from docsgap.errors import ConfigError, DocsgapError


def read_utf8(path: Path, *, error: type[DocsgapError] = ConfigError) -> str:
    """The file's text; an unreadable file or bytes that are not UTF-8 raise `error` (a
    `ConfigError` unless told) saying where, so no input ends in a traceback."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise error(
            f"{path}: not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            f"(line {line})",
            hint="save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
        ) from None
