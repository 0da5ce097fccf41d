"""Image metadata a copy must not carry, for :mod:`.anonymize`: PNG keeps only its pixel and
colour chunks, JPEG loses its APP1-APP13/APP15 segments and comments; and the compressed text
chunks of a PNG, inflated for the leak checker."""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Iterable

PNG = b"\x89PNG\r\n\x1a\n"
_PNG_KEPT = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"pHYs",
    b"bKGD", b"hIST", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip
_JPEG_KEPT_APPS = {0xE0, 0xEE}  # JFIF, Adobe (colour transform): neither carries names


def strip_image(encoded: str) -> str:
    try:
        data = base64.b64decode(encoded)
    except (binascii.Error, ValueError):
        return encoded
    stripped = _strip_png(data) if data.startswith(PNG) else None
    if data.startswith(b"\xff\xd8"):
        stripped = _strip_jpeg(data)
    if stripped is None:
        return encoded
    return base64.b64encode(stripped).decode("ascii") + ("\n" if encoded.endswith("\n") else "")


def png_chunks(data: bytes) -> Iterable[tuple[bytes, bytes, bytes]]:
    """(type, body, whole chunk) for each chunk up to IEND; ValueError if it is cut short."""
    pos = len(PNG)
    while True:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, end = data[pos + 4 : pos + 8], pos + 12 + length
        if end > len(data):
            raise ValueError("truncated PNG")
        yield kind, data[pos + 8 : pos + 8 + length], data[pos:end]
        if kind == b"IEND":
            return
        pos = end


def _strip_png(data: bytes) -> bytes | None:
    try:
        # Unknown critical chunks (upper-case first letter) must stay or the image breaks.
        kept = [c for kind, _, c in png_chunks(data) if kind in _PNG_KEPT or kind[0] < 0x60]
    except ValueError:
        return None
    return PNG + b"".join(kept)


def _strip_jpeg(data: bytes) -> bytes | None:
    out, pos = [data[:2]], 2
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0xDA or marker == 0xD9:  # start of scan: the rest is image data
            out.append(data[pos:])
            return b"".join(out)
        elif 0xD0 <= marker <= 0xD8 or marker == 0x01:  # markers without a length
            out.append(data[pos : pos + 2])
            pos += 2
        else:
            end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            if end > len(data):
                return None
            app = 0xE0 <= marker <= 0xEF
            if not (marker == 0xFE or (app and marker not in _JPEG_KEPT_APPS)):
                out.append(data[pos:end])
            pos = end
    return None


def png_texts(data: bytes) -> list[bytes]:
    """The inflated text of zTXt and compressed iTXt chunks (tEXt is readable as it is)."""
    out = []
    try:
        for kind, body, _ in png_chunks(data):
            if kind == b"zTXt":
                out.append(zlib.decompress(body.split(b"\0", 1)[1][1:]))
            elif kind == b"iTXt":
                rest = body.split(b"\0", 1)[1]
                if rest[:1] == b"\x01":
                    out.append(zlib.decompress(rest[2:].split(b"\0", 2)[2]))
    except (ValueError, IndexError, zlib.error):
        pass
    return out
