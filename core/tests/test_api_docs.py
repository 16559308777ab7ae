"""docs/api.md, the project's API reference, against the schema the server serves: no drift.

The convention the reference follows (and states at its top): each operation is one table row
whose first cell is the method and the path in backticks, "| `GET /posts/{id}` | ...", one method
per row; every status the operation answers is a bold number (**200**) in that row, and no other
bold number is. Paths compare with `{id}`/`{pk}` naming ignored and a trailing slash ignored
(every path answers both ways).

Compared: the set of operations (every one in /openapi.json is documented, every documented one
is in /openapi.json or is one of NOT_IN_SCHEMA, which must answer), and each operation's status
codes, exactly. Excluded: 429, which core.schema.throttled_responses adds to every operation but
the health check and the reference states once in its general rules (a test below keeps that true).
"""

import json
import re
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
GLOBAL_CODES = {"429"}  # documented once, in General rules, not per row

# Documented rows the schema does not describe: the schema itself, its pages, the metrics scrape.
NOT_IN_SCHEMA = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
    ("GET", "/metrics"),
}

OPERATION_ROW = re.compile(r"^\|\s*`(?P<method>[A-Z]+) (?P<path>/[^`\s]*)`\s*\|")
LOOKS_LIKE_OPERATION = re.compile(r"^\|\s*`(?:" + "|".join(METHODS) + r")\b")
STATUS = re.compile(r"\*\*(\d{3})\*\*")


def normalize(method: str, path: str) -> tuple[str, str]:
    """(METHOD, path) with parameter names and a trailing slash left out: `/posts/{}`."""
    path = re.sub(r"\{[^}]*\}", "{}", path)
    return method.upper(), path.rstrip("/") or "/"


def documented_operations(text: str) -> dict[tuple[str, str], set[str]]:
    """{(METHOD, path): status codes} of the reference's operation rows; malformed rows fail."""
    operations = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not LOOKS_LIKE_OPERATION.match(line):
            continue
        row = OPERATION_ROW.match(line)
        assert row, f"docs/api.md:{number}: write one method and one path: | `GET /path` |"
        key = normalize(row["method"], row["path"])
        assert key not in operations, f"docs/api.md:{number}: {key} is documented twice"
        operations[key] = set(STATUS.findall(line))
    return operations


def schema_operations(schema: dict) -> dict[tuple[str, str], set[str]]:
    """{(METHOD, path): status codes} of every operation in the OpenAPI schema."""
    return {
        normalize(method, path): {code for code in operation["responses"] if code.isdigit()}
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method.upper() in METHODS
    }


def drift(documented: dict, served: dict) -> list[str]:
    """Every difference between the reference and the schema, one line each (none: no drift)."""
    problems = [f"{m} {p} is served but not documented" for m, p in served.keys() - documented]
    problems += [
        f"{m} {p} is documented but not in the schema"
        for m, p in documented.keys() - served.keys() - NOT_IN_SCHEMA
    ]
    for key in sorted(documented.keys() & served.keys()):
        wrote, serves = documented[key] - GLOBAL_CODES, served[key] - GLOBAL_CODES
        if wrote != serves:
            problems.append(
                f"{' '.join(key)}: documents {sorted(wrote)}, the schema says {sorted(serves)}"
            )
    return problems


@pytest.fixture
def schema():
    response = Client().get("/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.fixture
def documented():
    return documented_operations(API_MD.read_text(encoding="utf-8"))


def test_the_reference_documents_each_served_operation_with_the_schemas_status_codes(
    schema, documented
):
    problems = drift(documented, schema_operations(schema))
    assert problems == [], "docs/api.md differs from /openapi.json:\n" + "\n".join(problems)


def test_every_operation_but_the_health_check_may_answer_429_as_the_reference_says(schema):
    # The reason 429 is left out of the rows: it holds for every operation, said once.
    without = [key for key, codes in schema_operations(schema).items() if "429" not in codes]
    assert without == [("GET", "/healthz")]


@pytest.mark.parametrize("method, path", sorted(NOT_IN_SCHEMA))
def test_the_documented_pages_beside_the_schema_are_served(documented, method, path):
    assert (method, path) in documented
    response = Client(REMOTE_ADDR="127.0.0.1").generic(method, path)  # /metrics: loopback
    assert response.status_code == 200


def test_a_changed_status_a_missing_row_or_an_unknown_path_is_drift(schema):
    # The checker itself: each edit of a row shows as drift, beside whatever the file has.
    text = API_MD.read_text(encoding="utf-8")
    served = schema_operations(schema)
    before = set(drift(documented_operations(text), served))

    def new_drift(edited: str) -> set[str]:
        return set(drift(documented_operations(edited), served)) - before

    feed = next(line for line in text.splitlines() if line.startswith("| `GET /feed` |"))
    assert new_drift(text.replace(feed, feed.replace("**401**", "**403**"))) == {
        "GET /feed: documents ['200', '403', '422'], the schema says ['200', '401', '422']"
    }
    assert new_drift(text.replace(feed, "")) == {"GET /feed is served but not documented"}
    assert new_drift(text.replace("| `GET /feed` |", "| `GET /feeds/{pk}` |")) == {
        "GET /feed is served but not documented",
        "GET /feeds/{} is documented but not in the schema",
    }
