"""schemathesis against /api/v1/openapi.json, in process over WSGI, on the real database: no
server errors, and every answer as the spec says (all checks, positive and negative data)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS, load_all_checks

from newsletter.extensions import db

pytestmark = pytest.mark.slow

# Enough to find what the audit found, few enough that the whole run stays under a minute.
EXAMPLES = 25

load_all_checks()


def _failures(operation, mode, headers) -> list[str]:
    """What one operation got wrong in one mode; [] when nothing."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        try:
            case.call_and_validate(headers=headers, checks=CHECKS.get_all())
        finally:
            # A request in production ends its session; here the test's app context holds one.
            db.session.remove()

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # the failures, with a request to repeat
        return [f"{mode.value} {operation.label}:\n{exc}"]
    return []


def test_the_api_answers_as_its_spec_says(app, api_headers, weekly):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # PostgreSQL text cannot hold NUL: the API refuses it with a 400 (tested in
    # test_security.py), so generated strings leave it out.
    schema.config.generation.update(allow_x00=False)
    # 422 is how the API refuses a well-formed request that names a list that does not exist,
    # or breaks a rule a schema cannot say (no posts in the range, a time in the past).
    accepted = schema.config.checks.positive_data_acceptance
    accepted.expected_statuses = [*accepted.expected_statuses, "422"]
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _failures(operation, mode, api_headers)
    assert not failures, f"{len(failures)} failing:\n\n" + "\n\n".join(failures)
