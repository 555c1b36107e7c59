"""Kaggle Models handles: where TF Hub's models live now.

A handle ``https://www.kaggle.com/models/<owner>/<model>/<framework>/<variation>/<version>``
(the page's URL; the long form ``.../frameworks/F/variations/V/versions/N`` too) is
downloaded from Kaggle's public model API as one ``.tar.gz`` archive, through the same
path as every other archive (`zoo.hub._download`): TF Hub's cache (``TFHUB_CACHE_DIR``,
sha1 of the handle), its lock, the size limits, the ``sha256`` pin and the offline rules.
``tensorflow_hub`` 0.16 has no resolver for these URLs, and ``kagglehub`` keeps its own
cache outside TF Hub's, so zoo fetches the archive itself. Models that need a login take
the Kaggle API credentials from ``KAGGLE_USERNAME`` / ``KAGGLE_KEY`` (or
``~/.kaggle/kaggle.json``), sent only to the Kaggle API (``ZOO_KAGGLE_API``, default
``https://www.kaggle.com/api/v1``).

Example:
    >>> kaggle_archive_url("https://www.kaggle.com/models/google/yamnet/tensorFlow2/yamnet/1")
    'https://www.kaggle.com/api/v1/models/google/yamnet/tensorFlow2/yamnet/1/download'
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

__all__ = ["is_kaggle_handle", "kaggle_archive_url", "kaggle_auth_header", "KAGGLE_API"]

KAGGLE_API = "https://www.kaggle.com/api/v1"
_PAGE = re.compile(r"^https://(?:www\.)?kaggle\.com/models/([^/?#]+)/([^/?#]+)/(?:frameworks/)?([^/?#]+)/"
                   r"(?:variations/)?([^/?#]+)/(?:versions/)?(\d+)/?(?:[?#].*)?$")


def _api() -> str:
    return (os.environ.get("ZOO_KAGGLE_API") or KAGGLE_API).rstrip("/")


def is_kaggle_handle(handle: str) -> bool:
    """``handle`` is a Kaggle Models page URL with a version.

    Example:
        >>> is_kaggle_handle("https://www.kaggle.com/models/google/mobilenet-v2/tensorFlow2/100-224-feature-vector/2")
        True
    """
    return bool(_PAGE.match(handle))


def kaggle_archive_url(handle: str) -> str:
    """The URL of the ``.tar.gz`` archive of the Kaggle model ``handle`` (Kaggle's model download API).

    Example:
        >>> kaggle_archive_url("https://www.kaggle.com/models/google/bert/frameworks/tensorFlow2/variations/x/versions/3")
        'https://www.kaggle.com/api/v1/models/google/bert/tensorFlow2/x/3/download'
    """
    m = _PAGE.match(handle)
    if not m:
        from zoo.errors import ConfigurationError

        raise ConfigurationError(f"{handle!r} is not a Kaggle Models handle; expected "
                                 "https://www.kaggle.com/models/OWNER/MODEL/FRAMEWORK/VARIATION/VERSION")
    return f"{_api()}/models/{'/'.join(m.groups())}/download"


def kaggle_auth_header(url: str) -> str | None:
    """``Authorization`` header value for ``url`` when it is the Kaggle API and credentials are set.

    Example:
        >>> kaggle_auth_header("https://example.org/x") is None
        True
    """
    if not url.startswith(_api() + "/"):
        return None
    user, key = os.environ.get("KAGGLE_USERNAME"), os.environ.get("KAGGLE_KEY")
    if not (user and key):
        cfg = Path(os.environ.get("KAGGLE_CONFIG_DIR") or Path.home() / ".kaggle") / "kaggle.json"
        try:
            data = json.loads(cfg.read_text(encoding="utf-8"))
            user, key = data.get("username"), data.get("key")
        except (OSError, ValueError, AttributeError):
            return None
    if not (user and key):
        return None
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()
