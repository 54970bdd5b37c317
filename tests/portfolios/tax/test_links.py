"""Transactions named in tax messages and tables link to them."""

import pytest
from django.template import Context, Template

from portfolios.tax.templatetags.tax_links import link_transactions


def test_hash_references_become_links_and_the_rest_is_escaped():
    html = link_transactions("Transaction #12 (sell on 2024-05-01 in “<Main>”): not enough WETH; see #7.")
    assert '<a href="/portfolios/transactions/12/edit/">#12</a>' in html
    assert '<a href="/portfolios/transactions/7/edit/">#7</a>' in html
    assert "&lt;Main&gt;" in html and "<Main>" not in html


def test_the_engines_transaction_refs_become_links():
    html = link_transactions("transaction 31,32: 0.5 WETH returned beyond the 0.4 held")
    assert html.startswith(
        'transaction <a href="/portfolios/transactions/31/edit/">#31</a>, '
        '<a href="/portfolios/transactions/32/edit/">#32</a>: 0.5 WETH'
    )


@pytest.mark.parametrize("text", ["Uniswap V3 NFT#123", "it&#x27;s", "position 12: in range", "#abc"])
def test_what_is_not_a_transaction_reference_is_left_alone(text):
    assert "<a " not in link_transactions(text)


def test_the_filter_loads_in_templates():
    out = Template("{% load tax_links %}{{ t|link_transactions }}").render(Context({"t": "#5"}))
    assert out == '<a href="/portfolios/transactions/5/edit/">#5</a>'
