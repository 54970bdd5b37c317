"""The whole OpenAPI schema generates and validates with no warning, so every
endpoint any app adds is documented."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "openapi: 3" in text
    for path in ("/api/v1/me/", "/api/v1/pools/", "/api/v1/portfolios/", "/api/v1/calculators/impermanent-loss/"):
        assert path in text
