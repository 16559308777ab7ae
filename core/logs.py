"""Log records as JSON lines, the shape log collectors parse without configuration."""

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from `extra=` and is logged too.
_STANDARD_ATTRIBUTES = {*vars(logging.makeLogRecord({})), "message", "asctime"}
# Plain values only: Django attaches the request object itself (`extra={"request": ...}`), whose
# text would carry the query string.
_PLAIN = (str, int, float, bool, type(None))


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the record's `extra` fields."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value)
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRIBUTES and isinstance(value, _PLAIN)
        )
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry)
