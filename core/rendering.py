"""Wire values built without DRF's per-field machinery, for the hot read paths.

Each gives exactly what the DRF field it stands for would (core/tests/test_rendering.py):
building a serializer costs more than the rest of a cached read.
"""

from django.utils import timezone


def iso_datetime(value) -> str:
    """What DRF's DateTimeField gives: ISO 8601 in the current time zone, UTC as `Z`."""
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
