"""Text that stands for bytes which need not be UTF-8, and back, without losing a byte.

Headroom works on ``str``. Content read as bytes (a file, a pipe) is decoded with
``surrogateescape``: each byte that is not part of valid UTF-8 becomes a lone surrogate
U+DC80..U+DCFF. Strings made in Python can also hold other lone surrogates (``"\\ud800"``).
:func:`to_bytes` gives the bytes back: escaped bytes as themselves, any other surrogate in
its ``surrogatepass`` spelling, so the store keeps, and the handle hashes, the very bytes a
file held. :func:`from_bytes` is its inverse on every byte string:
``to_bytes(from_bytes(b)) == b``, and ``from_bytes(to_bytes(s)) == s`` for every ``s``
that a decoder could have produced (the only exceptions are strings that spell a valid
UTF-8 sequence as escaped bytes, which no decoder produces).

>>> data = b"caf\\xc3\\xa9 \\xff\\xfe"
>>> text = from_bytes(data)
>>> text
'café \\udcff\\udcfe'
>>> to_bytes(text) == data
True
>>> from_bytes(to_bytes("\\ud800")) == "\\ud800"
True
"""

from __future__ import annotations

import codecs

__all__ = ["from_bytes", "to_bytes"]

_HANDLER = "headroom.rawbytes"


def _encode_error(error: UnicodeError) -> tuple[bytes, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = bytearray()
    for char in error.object[error.start : error.end]:
        point = ord(char)
        if 0xDC80 <= point <= 0xDCFF:  # an escaped byte
            out.append(point - 0xDC00)
        elif 0xD800 <= point <= 0xDFFF:  # any other lone surrogate, as surrogatepass writes it
            out += bytes((0xED, 0xA0 | ((point >> 6) & 0x1F), 0x80 | (point & 0x3F)))
        else:
            raise error
    return bytes(out), error.end


def _decode_error(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    data, start = error.object, error.start
    # ED A0..BF 80..BF is a surrogate in surrogatepass spelling; those in U+DC80..U+DCFF are
    # left as three escaped bytes, since to_bytes writes that surrogate as one byte.
    if (
        data[start] == 0xED
        and start + 2 < len(data)
        and 0xA0 <= data[start + 1] <= 0xBF
        and 0x80 <= data[start + 2] <= 0xBF
    ):
        point = 0xD000 | ((data[start + 1] & 0x3F) << 6) | (data[start + 2] & 0x3F)
        if not 0xDC80 <= point <= 0xDCFF:
            return chr(point), start + 3
    return chr(0xDC00 + data[start]), start + 1


def _handler(error: UnicodeError) -> tuple[str | bytes, int]:
    if isinstance(error, UnicodeEncodeError):
        return _encode_error(error)
    return _decode_error(error)


codecs.register_error(_HANDLER, _handler)


def to_bytes(text: str) -> bytes:
    """The bytes ``text`` stands for: UTF-8, with escaped bytes and lone surrogates kept."""
    return text.encode("utf-8", _HANDLER)


def from_bytes(data: bytes) -> str:
    """``data`` as text: UTF-8, each byte that is not valid UTF-8 as an escaped byte."""
    return data.decode("utf-8", _HANDLER)
