"""The fuzz run's hooks (core/tests/schemathesis_hooks.py) drop only what no schema can describe."""

import pytest

from core.tests import schemathesis_hooks


class Answer:
    """What the hooks read of a response."""

    def __init__(self, status_code: int, *errors: tuple[list, str]):
        self.status_code = status_code
        self.errors = [{"loc": loc, "msg": msg, "type": "value_error"} for loc, msg in errors]

    def json(self):
        return {"detail": self.errors}


REUSED_KEY = (["header", "Idempotency-Key"], "This key was already used for a different request")
COMMON = (["body", "password"], "This password is too common.")
BAD_EMAIL = (["body", "email"], "Enter a valid email address.")
SHORT = (["body", "password"], "This password is too short.")


@pytest.mark.parametrize(
    ("operation", "answer", "dropped"),
    [
        ("POST /posts/", Answer(422, REUSED_KEY), True),
        ("POST /users/", Answer(422, COMMON), True),
        ("POST /users/", Answer(422, COMMON, BAD_EMAIL), False),
        ("POST /users/me/password", Answer(422, COMMON), False),  # there it is `new_password`
        ("POST /users/", Answer(422, SHORT), False),
        ("GET /posts/", Answer(422, REUSED_KEY), False),
        ("POST /posts/", Answer(409, REUSED_KEY), False),
    ],
)
def test_the_hooks_drop_only_the_refusals_no_schema_can_describe(operation, answer, dropped):
    assert (schemathesis_hooks.state_rule_for(operation, answer) is not None) is dropped


class Sent:
    """What the hooks read of a case."""

    def __init__(self, media_type: str, body):
        self.media_type, self.body = media_type, body


@pytest.mark.parametrize(
    ("case", "dropped"),
    [
        (Sent("multipart/form-data", [1, 2]), True),
        (Sent("application/x-www-form-urlencoded", "text"), True),
        (Sent("multipart/form-data", {"up_to_id": "x"}), False),
        (Sent("application/json", [1, 2]), False),
    ],
)
def test_only_a_form_that_cannot_carry_the_body_is_excused(case, dropped):
    assert schemathesis_hooks.form_cannot_carry(case) is dropped
