"""Image sizes read from file headers, before decoding: the guard against decompression bombs.

A 1 MB PNG can declare 20000 x 20000 pixels (1.2 GB once decoded). Loaders and
``read_image`` read the header first and refuse images over ``ZOO_MAX_IMAGE_PIXELS``
(default 89,478,485 pixels, Pillow's limit) with the file named, never decoding them.

Example:
    >>> import struct
    >>> image_dimensions(b"\\x89PNG\\r\\n\\x1a\\n" + struct.pack(">I4sII", 13, b"IHDR", 30000, 20000))
    (30000, 20000)
    >>> too_many_pixels(b"\\x89PNG\\r\\n\\x1a\\n" + struct.pack(">I4sII", 13, b"IHDR", 30000, 20000))[:31]
    'declares 30000x20000 pixels (60'
"""

from __future__ import annotations

import os
import struct

__all__ = ["image_dimensions", "too_many_pixels", "max_image_pixels", "HEADER_BYTES"]

HEADER_BYTES = 65536  # JPEG's frame header may follow up to 64 KiB of EXIF
DEFAULT_MAX_PIXELS = 89_478_485


def max_image_pixels() -> int:
    """``ZOO_MAX_IMAGE_PIXELS`` (default 89,478,485, as Pillow's decompression-bomb limit)."""
    value = os.environ.get("ZOO_MAX_IMAGE_PIXELS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_PIXELS


def image_dimensions(head: bytes) -> tuple[int, int] | None:
    """``(width, height)`` an image header declares (PNG, GIF, BMP, JPEG); None when it does not say."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24 and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head.startswith(b"BM") and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return abs(w), abs(h)
    if head.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 <= len(head) and head[i] == 0xFF:
            marker, length = head[i + 1], struct.unpack(">H", head[i + 2:i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start-of-frame segment
                h, w = struct.unpack(">HH", head[i + 5:i + 9])
                return w, h
            i += 2 + length
    return None


def too_many_pixels(head: bytes) -> str:
    """The reason to refuse an image whose header declares more than `max_image_pixels`, else ``""``."""
    dims = image_dimensions(head)
    limit = max_image_pixels()
    if not dims or dims[0] * dims[1] <= limit:
        return ""
    w, h = dims
    return (f"declares {w}x{h} pixels ({w * h / 1e6:.0f} MP), over the limit of {limit / 1e6:.0f} MP "
            "(ZOO_MAX_IMAGE_PIXELS): a decompression bomb or a huge scan; resize it first")
