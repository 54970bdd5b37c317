"""Transactions named in tax messages and tables (``#123``) become links to them."""

import re

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# "#123" not inside a word or an HTML entity (escape() writes "&#x27;"); and the engine's
# "transaction 123:" / "transaction 12,13:" (its refs are our transaction ids).
TRANSACTION_REF = re.compile(r"(?<![\w&])#(\d+)\b")
ENGINE_REF = re.compile(r"\b([Tt]ransaction) (\d+(?:,\d+)*)(?=:)")


@register.filter
def link_transactions(text: object) -> SafeString:
    """Escape ``text`` and link every ``#<id>`` to that transaction's page (its edit form,
    which checks the viewer owns it)."""

    def anchor(pk: str, label: str) -> str:
        return format_html('<a href="{}">{}</a>', reverse("portfolios:transaction_edit", args=[int(pk)]), label)

    def hash_ref(match: re.Match[str]) -> str:
        return anchor(match.group(1), f"#{match.group(1)}")

    def engine_ref(match: re.Match[str]) -> str:
        links = ", ".join(anchor(pk, f"#{pk}") for pk in match.group(2).split(","))
        return f"{match.group(1)} {links}"

    html = TRANSACTION_REF.sub(hash_ref, str(escape(text)))
    return mark_safe(ENGINE_REF.sub(engine_ref, html))  # noqa: S308 - escaped above, links built by format_html
