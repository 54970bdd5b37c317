"""Runs the quick start of docs/api.md exactly as written: every curl command of its ```sh
blocks, in order, through the test client, checking each `# expect:` status and carrying
each `# save:` value into the later commands (as the shell would)."""

import json
import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from tests.pools.factories import TokenPriceFactory
from tests.portfolios.factories import TokenFactory

DOC = Path(settings.BASE_DIR) / "docs" / "api.md"

pytestmark = [pytest.mark.django_db, pytest.mark.uses_cache]


@dataclass
class Step:
    command: str
    expect: list[int] = field(default_factory=list)
    saves: list[tuple[str, str]] = field(default_factory=list)
    key_from_email: str | None = None


def steps_of(text: str) -> list[Step]:
    steps: list[Step] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        pending_key = None
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if line.startswith("# save-from-email:"):
                pending_key = line.split(":", 1)[1].strip()
            elif line.startswith("curl "):
                steps.append(Step(command=line, key_from_email=pending_key))
                pending_key = None
            elif line.startswith("# expect:"):
                steps[-1].expect = [int(code) for code in re.findall(r"\d{3}", line)]
            elif line.startswith("# save:"):
                name, _, path = line.split(":", 1)[1].partition("=")
                steps[-1].saves.append((name.strip(), path.strip()))
    return steps


def expand(text: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Z_]+)\}?", lambda m: env[m.group(1)], text)


def dig(body: object, path: str) -> str:
    for part in path.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]  # type: ignore[index]
    return str(body)


def run(client, command: str, env: dict[str, str]):
    words = shlex.split(command)  # the shell's own quoting rules; $VARS expanded after
    assert words[0] == "curl"
    method, headers, data, url = None, {}, None, None
    args = iter(words[1:])
    for word in args:
        if word == "-X":
            method = next(args)
        elif word == "-H":
            name, _, value = expand(next(args), env).partition(":")
            headers["HTTP_" + name.strip().upper().replace("-", "_")] = value.strip()
        elif word == "-d":
            data = expand(next(args), env)
        elif word == "-o":
            next(args)
        elif word.startswith("-"):
            continue  # -s
        else:
            url = expand(word, env)
    method = method or ("POST" if data is not None else "GET")
    content_type = headers.pop("HTTP_CONTENT_TYPE", "application/octet-stream")
    assert url is not None, f"no URL in {command!r}"
    path = url.removeprefix(env["BASE"])
    return client.generic(method, path, data or "", content_type=content_type, **headers)


@pytest.fixture
def weth(db):
    token = TokenFactory(symbol="WETH")
    TokenPriceFactory(token=token, timestamp=datetime(2025, 3, 1, tzinfo=UTC), price_usd=Decimal("3500"))
    return token


def test_the_doc_has_the_whole_journey():
    commands = " ".join(step.command for step in steps_of(DOC.read_text()))
    for part in ("/auth/signup", "/auth/email/verify", "/auth/login", "/api/v1/portfolios/", "/api/v1/positions/",
                 "/analytics/", "/api/v1/tax-reports/", "/files/csv-disposals/"):
        assert part in commands, part


def test_the_quick_start_runs_as_written(client, weth, django_capture_on_commit_callbacks):
    env = {"BASE": "http://127.0.0.1:8000"}
    steps = steps_of(DOC.read_text())
    assert len(steps) >= 10
    for step in steps:
        if step.key_from_email:
            link = re.search(r"/accounts/confirm-email/([^/\s]+)/", mail.outbox[-1].body)
            env[step.key_from_email] = link.group(1)
        # Work queued on commit (the tax report build) runs as it would after a real commit.
        with django_capture_on_commit_callbacks(execute=True):
            response = run(client, step.command, env)
        assert response.status_code in step.expect, (step.command, response.status_code, response.content[:400])
        for name, path in step.saves:
            env[name] = dig(json.loads(response.content), path)
        if "/tax-reports/$REPORT/\"" in step.command:
            assert json.loads(response.content)["status"] == "done", response.content[:600]
        if "/files/" in step.command:
            assert response["Content-Disposition"].startswith("attachment")
    # After logging out, the token is dead.
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {env['TOKEN']}").status_code == 401
