"""docs/openapi.yaml is the generated schema, committed: a change to the API must come with
the regenerated file (so clients and reviewers see the contract change)."""

import difflib
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


@pytest.fixture(scope="module")
def generated(tmp_path_factory, django_db_blocker):
    out = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return out.read_text()


def test_the_committed_schema_is_the_generated_one(generated):
    committed = COMMITTED.read_text()
    if committed != generated:
        diff = "".join(list(difflib.unified_diff(committed.splitlines(True), generated.splitlines(True),
                                                 "docs/openapi.yaml", "generated", n=1))[:60])
        pytest.fail("docs/openapi.yaml is out of date; regenerate it with `make schema` "
                    f"(manage.py spectacular --file docs/openapi.yaml) and commit it.\n{diff}")


def test_every_operation_documents_problem_errors(generated):
    schema = yaml.safe_load(generated)
    shared = schema["components"]["responses"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation["responses"]
            for code in ("401", "429", "500"):
                assert code in responses, (method, path, code)
            if "{" in path:
                assert "404" in responses, (method, path)
            for code, response in responses.items():
                if int(code) >= 400:
                    response = shared[response["$ref"].rsplit("/", 1)[1]] if "$ref" in response else response
                    assert "application/problem+json" in response["content"], (method, path, code)
