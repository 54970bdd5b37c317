# ruff: noqa: F811 - the portfolios fixtures are imported by name and used as arguments
"""One field template for every form (FORM_RENDERER = config.forms.FormRenderer): each
input names its help text and its errors in aria-describedby, and those ids exist."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from config.forms import FormRenderer
from portfolios.services.legs import LegInput
from portfolios.services.positions import position_open
from tests.portfolios.conftest import (  # noqa: F401 - fixtures used here
    DEPOSIT_AT,
    amm_pool,
    chain,
    crv,
    eth,
    portfolio,
    prices,
    protocol,
    usdc,
)

pytestmark = pytest.mark.django_db

FIELDS = ("input", "select", "textarea")


class _Page(HTMLParser):
    """Ids, texts by id, and the form controls with their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.fieldsets: list[dict[str, str | None]] = []
        self.text_by_id: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        ident = found.get("id")
        if ident:
            self.ids.add(ident)
            self._open.append(ident)
            self.text_by_id[ident] = ""
        if tag in FIELDS and found.get("type") not in ("hidden", "submit"):
            self.controls.append(found)
        if tag == "fieldset":
            self.fieldsets.append(found)

    def handle_data(self, data: str) -> None:
        for open_id in self._open:
            self.text_by_id[open_id] += data


def parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def described(page: _Page) -> list[tuple[str, list[str]]]:
    """(control or fieldset id, the ids it points at) for every aria-describedby."""
    out = []
    for element in page.controls + page.fieldsets:
        described_by = element.get("aria-describedby")
        if described_by:
            out.append((element.get("id") or "?", described_by.split()))
    return out


def test_the_site_renders_every_form_through_one_field_template():
    assert settings.FORM_RENDERER == "config.forms.FormRenderer"
    assert FormRenderer.field_template_name == "forms/field.html"
    assert FormRenderer.form_template_name == "forms/form.html"


@pytest.fixture
def lp(portfolio, amm_pool, eth, usdc, prices):
    return position_open(
        portfolio=portfolio,
        pool=amm_pool,
        kind="lp",
        opened_at=DEPOSIT_AT,
        deposits=[LegInput(token=eth, quantity="1"), LegInput(token=usdc, quantity="2000")],
    )


def _form_pages(portfolio, lp, amm_pool):
    return [
        reverse("portfolios:portfolio_create"),
        reverse("portfolios:portfolio_edit", args=[portfolio.pk]),
        reverse("portfolios:portfolio_delete", args=[portfolio.pk]),
        reverse("portfolios:portfolio_import", args=[portfolio.pk]),
        reverse("portfolios:transaction_create", args=[portfolio.pk]),
        reverse("portfolios:position_create"),
        reverse("portfolios:position_create") + f"?pool={amm_pool.pk}",
        reverse("portfolios:position_add_liquidity", args=[lp.pk]),
        reverse("portfolios:position_remove_liquidity", args=[lp.pk]),
        reverse("portfolios:position_claim_rewards", args=[lp.pk]),
        reverse("portfolios:position_close", args=[lp.pk]),
        reverse("portfolios:position_override_amounts", args=[lp.pk]),
        reverse("accounts:settings"),
        reverse("calculators:impermanent_loss"),
        reverse("calculators:apy"),
        reverse("calculators:break_even"),
        reverse("tax:home"),
    ]


def test_every_form_links_each_help_text_to_its_input(owner_client, portfolio, lp, amm_pool):
    checked = 0
    for url in _form_pages(portfolio, lp, amm_pool):
        response = owner_client.get(url)
        assert response.status_code == 200, url
        page = parse(response.content.decode())
        help_ids = {i for i in page.ids if i.endswith("_helptext")}
        pointed = {target for _, targets in described(page) for target in targets}
        for owner_id, targets in described(page):
            for target in targets:
                assert target in page.ids, f"{url}: {owner_id} points at a missing #{target}"
        # Every help text on the page is read with its field.
        assert help_ids <= pointed, (url, help_ids - pointed)
        checked += len(help_ids)
    assert checked >= 15  # the pages above do carry help texts


@pytest.mark.parametrize("url", ["account_login", "account_signup"])
def test_the_login_and_signup_forms_use_it_too(client, url):
    page = parse(client.get(reverse(url)).content.decode())
    help_ids = {i for i in page.ids if i.endswith("_helptext")}
    pointed = {target for _, targets in described(page) for target in targets}
    assert help_ids <= pointed and all(t in page.ids for t in pointed)
    assert any(c.get("name") in ("login", "email") for c in page.controls)


def test_an_error_is_linked_to_its_input_and_marks_it_invalid(owner_client, portfolio):
    response = owner_client.post(reverse("portfolios:portfolio_create"), {"name": "   "})
    page = parse(response.content.decode())
    name = next(c for c in page.controls if c.get("name") == "name")
    targets = (name.get("aria-describedby") or "").split()
    assert name.get("aria-invalid") == "true"
    assert "id_name_error" in targets and "id_name_helptext" in targets
    assert (
        "Give the portfolio a name" in page.text_by_id["id_name_error"]
        or "This field is required" in page.text_by_id["id_name_error"]
    )


def test_a_radio_group_is_a_fieldset_that_names_its_help_and_errors(owner_client, portfolio):
    response = owner_client.post(reverse("portfolios:portfolio_import", args=[portfolio.pk]), {"format": "nope"})
    page = parse(response.content.decode())
    group = next(f for f in page.fieldsets if "id_format_error" in (f.get("aria-describedby") or ""))
    assert "id_format_error" in page.ids and group is not None
    assert "Select a valid choice" in page.text_by_id["id_format_error"]


def test_no_template_prints_a_help_text_without_the_id_aria_describedby_names():
    """A hand-placed help text (a table cell of a formset) uses the field template's id
    scheme, "<auto_id>_helptext", the id Django's aria-describedby points at."""
    templates = Path(settings.BASE_DIR) / "templates"
    printed = re.compile(r"\{\{\s*([\w.]+)\.help_text\s*\}\}")
    checked = 0
    for path in sorted(templates.rglob("*.html")):
        text = path.read_text()
        for match in printed.finditer(text):
            field = match.group(1)
            assert f'id="{{{{ {field}.auto_id }}}}_helptext"' in text, f"{path.relative_to(templates)}: {field}"
            checked += 1
    assert checked >= 3  # the field template's two and the token rows'
