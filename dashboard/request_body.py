"""Reading a raw request body with a size limit that holds for chunked bodies too."""

from __future__ import annotations

from werkzeug import Request


def read_limited(request: Request, limit: int) -> bytes | None:
    """The raw body, or None when it is larger than ``limit`` bytes.

    A chunked body has no Content-Length to check up front: at most one byte past the
    limit is read (Werkzeug stops there), and that byte arriving means too large.
    """
    if (request.content_length or 0) > limit:
        return None
    request.max_content_length = limit + 1
    raw = request.get_data(cache=False)
    return None if len(raw) > limit else raw
