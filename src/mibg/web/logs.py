"""Logging that names no patient: the server's request lines are written without their query string.

A patient search is a GET (/patients/?q=<name or MRN>), and the development server that ``mibg serve`` runs
logs every request line as sent; the path alone (ids only) is what is kept.
"""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?[^\s\"]*")


def without_query(text: str) -> str:
    """``GET /patients/?q=Smith HTTP/1.1`` -> ``GET /patients/ HTTP/1.1``."""
    return _QUERY.sub("", text)


class NoQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = without_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(without_query(a) if isinstance(a, str) else a for a in record.args)
        return True
