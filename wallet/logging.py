"""A logging filter that keeps tokens, emails and key-like strings out of log output.

Code logs ids and codes, never values; this is the net under that rule, for third-party messages
and tracebacks that quote what they were given.
"""

from __future__ import annotations

import logging
import re
import traceback

_PATTERNS = [
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*"), "[jwt]"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "[email]"),
    (re.compile(r"(?i)(bearer|basic)\s+[\w\-.~+/=]+"), r"\1 [redacted]"),
    (re.compile(r"(?i)((?:client_)?secret|password|pin|code_verifier)=[^&\s]+"), r"\1=[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks quote exception messages: keep the type and frames, drop the text.
            exc_type, _, tb = record.exc_info
            frames = "".join(traceback.format_tb(tb))
            cleaned += (
                f"\nTraceback (message withheld):\n{frames}{exc_type.__name__ if exc_type else ''}"
            )
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = cleaned, None
        return True
