"""Text inputs as the UTF-8 bytes a TensorFlow string tensor holds."""

from __future__ import annotations

__all__ = ["text_bytes"]


def text_bytes(s: str | bytes) -> bytes:
    """UTF-8 bytes of a text input; undecodable bytes (surrogate-escaped, as in ``sys.argv``)
    pass through unchanged, and the model replaces them with U+FFFD.

    Example:
        >>> text_bytes("café"), text_bytes(b"x")
        (b'caf\\xc3\\xa9', b'x')
    """
    return s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)
