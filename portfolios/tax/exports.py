"""Files of a tax report: Form 8949-style disposals CSV, income CSV, PDF summary.

Pure writers (no database): they take the engine's records and the report's
summary (``build`` makes both) and return bytes.

Disposals CSV (one row per disposal record of the tax year)
    Columns follow IRS Form 8949: (a) description of property ("0.5 ETH"),
    (b) date acquired ("VARIOUS" for average cost and UK pools), (c) date sold
    or disposed of, (d) proceeds, (e) cost or other basis, (f) adjustment
    code, (g) adjustment amount, (h) gain or (loss); then our own columns
    (part, asset, quantity, term, matching rule, fee deducted, transactions,
    tax year, currency). Rows are grouped short-term first (Part I), then long-term
    (Part II); UK reports have no holding-period split. Proceeds are already
    net of fees (the fee is shown in its own column), so no adjustment code
    or amount is ever needed and those columns stay empty: a tool that wants
    them finds them. Dates are MM/DD/YYYY for the US (as on the form) and
    YYYY-MM-DD otherwise. Money in the report's currency (the last column names
    it) with 2 decimals, a minus sign for losses.

UK disposals CSV (HMRC's capital gains summary instead of Form 8949)
    First the SA108 figures of the tax year, in GBP: number of disposals,
    disposal proceeds, allowable costs (including purchase price), gains in
    the year before losses, losses in the year. A disposal is what HMRC
    counts: one asset on one day (same-day disposals are one, TCGA 1992
    s.105), its gain or loss netted over the matching rules it used. Then,
    after an empty line, one row per disposal piece grouped by matching
    rule - same day, bed and breakfast (acquired within the next 30 days),
    Section 104 pool - with its proceeds, allowable cost, gain or loss.

Assets: a position's receipt (``LP#12``) is written with the name people read
("LP ETH/USDC v3 range #12", ``portfolios.tax.naming``) from ``asset_names``.

Income CSV (one row per reward received in the tax year)
    Date received, income type, asset, quantity, fair market value at receipt
    (the income and the cost basis of the new lot), position, transaction.

PDF
    Title, user, tax year and period, jurisdiction, method, LP treatment,
    time zone; totals; income by type and month; gains by asset; holdings at
    the year end with unrealised gains; the disposals table (paginated,
    header repeated on each page; at most ``PDF_DISPOSAL_ROWS`` rows - beyond
    that the PDF says how many more are in the CSV); a "not tax advice" note
    on every page.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from config import formatting
from portfolios.ledger import INCOME_TYPE_CHOICES
from portfolios.tax.engine import Disposal, IncomeEvent
from portfolios.tax.engine.quantities import plain as quantity
from portfolios.validation import csv_safe_row

#: Room a section needs at the foot of a page to start there: its heading, a table header and a few rows.
SECTION_MIN_SPACE_MM = 40
#: Disposal rows printed in the PDF; the CSV always has them all.
PDF_DISPOSAL_ROWS = 1500
#: Exchange-rate rows printed in the PDF (the days that fell back to an earlier rate first).
PDF_FX_ROWS = 60

DISPOSAL_COLUMNS = [
    "Part",
    "(a) Description of property",
    "(b) Date acquired",
    "(c) Date sold or disposed of",
    "(d) Proceeds",
    "(e) Cost or other basis",
    "(f) Adjustment code",
    "(g) Adjustment amount",
    "(h) Gain or (loss)",
    "Asset",
    "Quantity",
    "Term",
    "Matching rule",
    "Fee deducted from proceeds",
    "Transactions",
    "Tax year",
    "Currency",
]
UK_RULES = {
    "same-day": "Same day",
    "bed-and-breakfast": "Bed and breakfast (30 days)",
    "section-104": "Section 104 pool",
}
_UK_RULE_ORDER = {rule: i for i, rule in enumerate(UK_RULES)}
UK_DISPOSAL_COLUMNS = [
    "Matching rule",
    "Date of disposal",
    "Asset",
    "Quantity",
    "Date acquired",
    "Disposal proceeds",
    "Allowable costs",
    "Gain",
    "Loss",
    "Fee deducted from proceeds",
    "Transactions",
    "Tax year",
    "Currency",
]
INCOME_COLUMNS = [
    "Date received",
    "Income type",
    "Asset",
    "Quantity",
    "Fair market value",
    "Position",
    "Transaction",
    "Tax year",
    "Currency",
]
PARTS = {"short": "Part I (short-term)", "long": "Part II (long-term)", None: "No holding-period split"}
_PART_ORDER = {"short": 0, "long": 1, None: 2}
#: Income type -> the label people read (the ledger's).
INCOME_TYPE_LABELS: dict[str, str] = dict(INCOME_TYPE_CHOICES)


def money(value: Decimal | str, currency: str = "USD") -> str:
    """Money for the CSV files: ``-1234.50`` (``config.formatting.money_plain``)."""
    return formatting.money_plain(value, currency)


def money_grouped(value: Decimal | str | None, currency: str = "USD") -> str:
    """Money for the PDF: ``-1,234.50``, the currency named by the column
    (``config.formatting.money``; an ASCII minus, which the PDF's base font has)."""
    return formatting.money(value, currency, symbol=False, minus="-")


def form_date(value: date | str, jurisdiction: str) -> str:
    if isinstance(value, str):  # "various"
        return value.upper()
    return value.strftime("%m/%d/%Y") if jurisdiction == "us" else value.isoformat()


def _csv(rows: Iterable[Sequence[str]], header: Sequence[str]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(csv_safe_row(row) for row in rows)  # no cell a spreadsheet would run as a formula
    # A BOM so spreadsheet programs read UTF-8 (position labels may not be ASCII).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _refs(tx_ref: str) -> str:
    return " ".join(f"#{ref}" for ref in tx_ref.split(",") if ref)


def sorted_disposals(disposals: Iterable[Disposal]) -> list[Disposal]:
    """Form order: Part I, then Part II (then no split), each by date sold."""
    return sorted(disposals, key=lambda d: (_PART_ORDER.get(d.term, 2), d.disposed, d.disposed_at or d.disposed))


def asset_name(asset: str, asset_names: Mapping[str, str] | None) -> str:
    return (asset_names or {}).get(asset, asset)


def disposals_csv(disposals: Iterable[Disposal], *, jurisdiction: str, currency: str = "USD",
                  asset_names: Mapping[str, str] | None = None, tax_year: str = "") -> bytes:
    if jurisdiction == "uk":
        return uk_disposals_csv(disposals, currency=currency, asset_names=asset_names, tax_year=tax_year)
    rows = (
        [
            PARTS.get(d.term, ""),
            f"{quantity(d.quantity)} {asset_name(d.asset, asset_names)}",
            form_date(d.acquired, jurisdiction),
            form_date(d.disposed, jurisdiction),
            money(d.proceeds),
            money(d.cost_basis),
            "",
            "",
            money(d.gain),
            asset_name(d.asset, asset_names),
            quantity(d.quantity),
            d.term or "",
            d.rule,
            money(d.fee),
            _refs(d.tx_ref),
            d.tax_year,
            currency,
        ]
        for d in sorted_disposals(disposals)
    )
    return _csv(rows, DISPOSAL_COLUMNS)


@dataclass(frozen=True)
class CapitalGainsSummary:
    """The SA108 figures of a tax year (HMRC's capital gains summary)."""

    disposals: int
    proceeds: Decimal
    allowable_costs: Decimal
    gains: Decimal  # in the year, before losses
    losses: Decimal  # in the year, a positive amount

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("Number of disposals", str(self.disposals)),
            ("Disposal proceeds", money(self.proceeds)),
            ("Allowable costs (including purchase price)", money(self.allowable_costs)),
            ("Gains in the year, before losses", money(self.gains)),
            ("Losses in the year", money(self.losses)),
        ]


def capital_gains_summary(disposals: Iterable[Disposal]) -> CapitalGainsSummary:
    """SA108 figures from disposal pieces: one disposal per asset and day (same-day
    disposals are one), its gain or loss netted over the rules it was matched by;
    gains and losses each summed from full precision, then rounded once."""
    net: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    proceeds = costs = Decimal(0)
    for d in disposals:
        net[(d.asset, d.disposed)] += d.gain
        proceeds += d.proceeds
        costs += d.cost_basis
    gains = sum((g for g in net.values() if g > 0), Decimal(0))
    losses = -sum((g for g in net.values() if g < 0), Decimal(0))
    return CapitalGainsSummary(len(net), proceeds, costs, gains, losses)


def sorted_uk_disposals(disposals: Iterable[Disposal]) -> list[Disposal]:
    """By matching rule (same day, bed and breakfast, Section 104), then date and asset."""
    return sorted(disposals, key=lambda d: (_UK_RULE_ORDER.get(d.rule, 3), d.disposed, d.asset,
                                            d.disposed_at or d.disposed))


def uk_disposals_csv(disposals: Iterable[Disposal], *, currency: str = "GBP",
                     asset_names: Mapping[str, str] | None = None, tax_year: str = "") -> bytes:
    """HMRC's capital gains summary, then the disposals by matching rule (module docstring)."""
    pieces = sorted_uk_disposals(disposals)
    summary = capital_gains_summary(pieces)
    year = tax_year or (pieces[0].tax_year if pieces else "")
    head: list[Sequence[str]] = [[f"Capital gains summary (SA108), tax year {year}", "", currency]]
    head += [[label, value, currency if label != "Number of disposals" else ""] for label, value in summary.rows()]
    head.append([])
    head.append(UK_DISPOSAL_COLUMNS)
    rows = (
        [
            UK_RULES.get(d.rule, d.rule),
            d.disposed.isoformat(),
            asset_name(d.asset, asset_names),
            quantity(d.quantity),
            form_date(d.acquired, "uk"),
            money(d.proceeds),
            money(d.cost_basis),
            money(d.gain) if d.gain > 0 else "0.00",
            money(-d.gain) if d.gain < 0 else "0.00",
            money(d.fee),
            _refs(d.tx_ref),
            d.tax_year,
            currency,
        ]
        for d in pieces
    )
    return _csv([*head[1:], *rows], head[0])


def income_csv(income: Iterable[IncomeEvent], *, position_labels: Mapping[str, str], jurisdiction: str,
               currency: str = "USD", asset_names: Mapping[str, str] | None = None) -> bytes:
    rows = (
        [
            form_date(e.received, jurisdiction),
            INCOME_TYPE_LABELS.get(e.income_type, e.income_type),
            asset_name(e.asset, asset_names),
            quantity(e.quantity),
            money(e.fair_market_value),
            position_labels.get(e.position or "", e.position or ""),
            _refs(e.tx_ref),
            e.tax_year,
            currency,
        ]
        for e in sorted(income, key=lambda e: (e.occurred_at, e.tx_ref))
    )
    return _csv(rows, INCOME_COLUMNS)


# --------------------------------------------------------------------------- PDF


def _currency_fact(fx: Mapping | None, currency: str) -> str:
    if not fx or not fx.get("converted_legs"):
        return currency
    return (f"{currency} (amounts entered in other currencies converted at the ECB euro reference rate of "
            "each transaction's date; see 'Exchange rates used')")


def summary_pdf(summary: Mapping, disposals: Sequence[Disposal], *, user_label: str, generated_at: datetime,
                max_rows: int = PDF_DISPOSAL_ROWS, asset_names: Mapping[str, str] | None = None) -> bytes:
    """The accountant's summary (reportlab platypus, built-in Helvetica: no font files)."""
    # reportlab is imported here, not at the top: only the worker builds PDFs, and the web
    # processes import this module (for its labels) without paying for reportlab.
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        CondPageBreak,
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    settings = summary["settings"]
    totals = summary["totals"]
    jurisdiction = settings["jurisdiction"]
    currency = settings["fiat_currency"]
    us = jurisdiction == "us"
    buffer = io.BytesIO()
    title = f"Tax summary {summary['tax_year']}"
    doc = SimpleDocTemplate(buffer, pagesize=letter if us else A4, title=title, author="Yieldledger",
                            subject=f"Tax year {summary['tax_year']} for {user_label}",
                            leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm, bottomMargin=18 * mm)
    styles = getSampleStyleSheet()
    h1, body = styles["Title"], styles["BodyText"]
    # A heading stays with what follows it: keepWithNext, and a section that starts within
    # SECTION_MIN_SPACE of the page foot starts on the next page (never a stranded heading).
    h2 = ParagraphStyle("h2", parent=styles["Heading2"], keepWithNext=1)
    SECTION_MIN_SPACE = SECTION_MIN_SPACE_MM * mm  # noqa: N806 - a length, named like its module constant
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.HexColor("#4a5866"))
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=9.5)

    def p(text: str, style=body) -> Paragraph:
        return Paragraph(escape(text), style)

    def table(rows: list[list], widths: list[float] | None = None, numeric_from: int = 1,
              total_row: bool = False) -> Table:
        t = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
        style: list[Any] = [  # reportlab's command tuples mix several shapes
            ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
            ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3f2ec")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#0b6e4f")),
            ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#d5dbe1")),
            ("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        if total_row:
            style.append(("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 8.5))
        t.setStyle(TableStyle(style))
        return t

    period = summary["period"]
    rows: list[list[Any]]  # table cells: text or a Paragraph
    facts = [
        ["Prepared for", user_label],
        ["Tax year", f"{summary['tax_year']} ({period['start']} to {period['end']})"],
        ["Jurisdiction", settings["jurisdiction_label"]],
        ["Cost-basis method", settings["method_label"]],
        ["DeFi LP treatment", settings["lp_treatment_label"]],
        ["Time zone", settings["timezone"]],
        ["Portfolios", summary.get("portfolio") or "All portfolios"],
        ["Currency", _currency_fact(summary.get("fx"), currency)],
        ["Generated", generated_at.strftime("%Y-%m-%d %H:%M UTC")],
    ]
    story: list = [Paragraph(escape(title), h1), Spacer(1, 2 * mm)]
    facts_table = Table([[p(k, cell), p(v, cell)] for k, v in facts], colWidths=[40 * mm, 130 * mm], hAlign="LEFT")
    facts_table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                     ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    story += [facts_table, Spacer(1, 4 * mm)]

    missing = summary.get("missing_basis") or []
    missing_count = summary.get("missing_basis_count", len(missing))
    if missing_count:
        story += [CondPageBreak(SECTION_MIN_SPACE), Paragraph("Missing cost basis: the totals are incomplete", h2)]
        story.append(p(f"{missing_count:,} disposal{'s' if missing_count != 1 else ''} took more coins than the "
                       "recorded transactions show as held. The uncovered quantity counts at a zero cost, so the "
                       "gains are likely overstated. Record how those coins came in (a buy, a reward or a transfer "
                       "in) before the transaction listed, or correct its quantity, and build the report again.",
                       cell))
        rows = [["Transaction", "Asset", "Quantity uncovered", "Held then"]]
        rows += [[Paragraph(escape(str(m["transaction"])), cell), m["asset"][:20], m["quantity_uncovered"],
                  m["quantity_held"]] for m in missing[:50]]
        story.append(table(rows, [85 * mm, 25 * mm, 30 * mm, 30 * mm], numeric_from=2))
        if missing_count > 50:
            story.append(p(f"{missing_count - 50:,} more are listed on the report's page.", small))
        story.append(Spacer(1, 3 * mm))
    if jurisdiction == "uk":
        cg = capital_gains_summary(disposals)
        story += [CondPageBreak(SECTION_MIN_SPACE), Paragraph("Capital gains summary (SA108)", h2)]
        rows = [["", f"Amount ({currency})"]]
        rows += [[label, value if label == "Number of disposals" else money_grouped(value)]
                 for label, value in cg.rows()]
        story += [table(rows, [110 * mm, 45 * mm]),
                  p("A disposal is one asset on one day; its gain or loss is netted over the matching rules "
                    "(same day, bed and breakfast, Section 104) it used. The rows below list each piece.", small),
                  Spacer(1, 3 * mm)]

    story += [CondPageBreak(SECTION_MIN_SPACE),
              Paragraph("Totals (incomplete: see Missing cost basis)" if missing_count else "Totals", h2)]
    rows = [["", f"Amount ({currency})"],
            ["Proceeds (net of fees)", money_grouped(totals["proceeds"])],
            ["Cost basis", money_grouped(totals["cost_basis"])]]
    if jurisdiction == "uk":
        rows.append(["Net gain or (loss)", money_grouped(totals["gain"])])
    else:
        rows += [["Short-term gain or (loss) (Form 8949 Part I)", money_grouped(totals["gain_short"])],
                 ["Long-term gain or (loss) (Form 8949 Part II)", money_grouped(totals["gain_long"])],
                 ["Net gain or (loss)", money_grouped(totals["gain"])]]
    rows += [["Fees deducted from proceeds", money_grouped(totals["disposal_fees"])],
             ["Fees neither deducted nor added to cost", money_grouped(totals["fees_unallocated"])],
             ["Disposals", f"{totals['disposal_count']:,}"],
             ["Income (fair market value when received)", money_grouped(totals["income_total"])]]
    story += [table(rows, [110 * mm, 45 * mm]), Spacer(1, 3 * mm)]

    story += [CondPageBreak(SECTION_MIN_SPACE), Paragraph("Income by type", h2)]
    by_type = totals["income_by_type"]
    if by_type:
        rows = [["Income type", f"Amount ({currency})"]]
        rows += [[INCOME_TYPE_LABELS.get(k, k), money_grouped(v)] for k, v in sorted(by_type.items())]
        rows.append(["Total", money_grouped(totals["income_total"])])
        story.append(table(rows, [110 * mm, 45 * mm], total_row=True))
    else:
        story.append(p("No income in this tax year."))
    by_month = totals["income_by_month"]
    if by_month:
        story += [CondPageBreak(SECTION_MIN_SPACE), Paragraph("Income by month", h2)]
        rows = [["Month", f"Amount ({currency})"]] + [[k, money_grouped(v)] for k, v in sorted(by_month.items())]
        story.append(table(rows, [110 * mm, 45 * mm]))

    gain_by_asset = totals["gain_by_asset"]
    if gain_by_asset:
        story += [CondPageBreak(SECTION_MIN_SPACE), Paragraph("Gains by asset", h2)]
        proceeds_by_asset = summary.get("proceeds_by_asset", {})
        asset_rows: list[list[object]] = [["Asset", f"Proceeds ({currency})", f"Gain or (loss) ({currency})"]]
        asset_rows += [[Paragraph(escape(asset_name(k, asset_names)), cell),
                        money_grouped(proceeds_by_asset.get(k, "0")), money_grouped(v)]
                       for k, v in sorted(gain_by_asset.items())]
        story.append(table(asset_rows, [70 * mm, 45 * mm, 45 * mm]))

    gifts = summary.get("gifts") or []
    if gifts:
        story += [CondPageBreak(SECTION_MIN_SPACE), Paragraph("Gifts", h2)]
        story.append(p("A gift given is a disposal at market value (TCGA 1992 s.17), counted above; to a spouse or "
                       "civil partner, no gain and no loss (s.58), not counted." if jurisdiction == "uk" else
                       "A gift given is not a disposal: the cost basis leaves with the coins and carries to the "
                       "recipient (not on Form 8949).", small))
        rows = [["Date", "Gift", "Asset", "Quantity", f"Cost basis ({currency})", f"Market value ({currency})"]]
        rows += [[g["occurred_at"][:10],
                  Paragraph(escape(f"{'Given' if g['direction'] == 'given' else 'Received'}: {g['category_label']}"
                                   + (" (a disposal)" if g["disposal"] else "")), cell),
                  Paragraph(escape(str(g["asset_label"])), cell), g["quantity"], money_grouped(g["cost_basis"]),
                  money_grouped(g["market_value"]) if g["market_value"] is not None else "unknown"]
                 for g in gifts[:200]]
        story.append(table(rows, [20 * mm, 45 * mm, 25 * mm, 28 * mm, 28 * mm, 28 * mm], numeric_from=3))
        story.append(Spacer(1, 3 * mm))

    heading = Paragraph(f"Holdings at the end of the tax year (prices of {summary['prices_as_of']})", h2)
    holdings = summary["holdings"]
    story.append(CondPageBreak(SECTION_MIN_SPACE))
    if holdings:
        rows = [["Asset", "Quantity", f"Cost basis ({currency})", "Price", f"Value ({currency})", "Unrealised"]]
        for h in holdings:
            rows.append([Paragraph(escape(h["label"]), cell), h["quantity"], money_grouped(h["cost_basis"]),
                         money_grouped(h["price"]) if h["priced"] else "no price",
                         money_grouped(h["value"]) if h["priced"] else "n/a",
                         money_grouped(h["unrealised_gain"]) if h["priced"] else "n/a"])
        ht = summary["holdings_totals"]
        rows.append(["Total (priced assets)", "", money_grouped(ht["cost_basis"]), "", money_grouped(ht["value"]),
                     money_grouped(ht["unrealised_gain"])])
        block = [heading, table(rows, [44 * mm, 30 * mm, 30 * mm, 22 * mm, 26 * mm, 26 * mm], total_row=True)]
        story.append(KeepTogether(block) if len(rows) <= 30 else block[0])
        if len(rows) > 30:
            story.append(block[1])
        if ht["unpriced"]:
            story.append(p("No price on that day for: " + ", ".join(ht["unpriced"]) + ". Their value is left out "
                           "of the totals (LP receipts are valued on their position pages).", small))
    else:
        story += [heading, p("Nothing held at the end of the tax year.")]

    story += [CondPageBreak(SECTION_MIN_SPACE),
              Paragraph("Disposals" + (" by matching rule" if jurisdiction == "uk" else ""), h2)]
    ordered = sorted_uk_disposals(disposals) if jurisdiction == "uk" else list(disposals)
    shown = ordered[:max_rows]
    if shown:
        sold_rows: list[list[object]] = [[
            "Description", "Acquired", "Sold", f"Proceeds ({currency})",
            f"{'Allowable cost' if jurisdiction == 'uk' else 'Cost basis'} ({currency})",
            f"Gain or (loss) ({currency})", "Term" if jurisdiction != "uk" else "Rule"]]
        for d in shown:
            sold_rows.append([Paragraph(escape(f"{quantity(d.quantity)} {asset_name(d.asset, asset_names)}"), cell),
                              form_date(d.acquired, jurisdiction),
                              form_date(d.disposed, jurisdiction), money_grouped(d.proceeds),
                              money_grouped(d.cost_basis), money_grouped(d.gain),
                              (d.term or "") if jurisdiction != "uk" else UK_RULES.get(d.rule, d.rule)])
        story.append(table(sold_rows, [50 * mm, 20 * mm, 20 * mm, 22 * mm, 22 * mm, 22 * mm, 22 * mm],
                           numeric_from=3))
        more = len(disposals) - len(shown)
        if more > 0:
            story.append(p(f"{more:,} more disposals are listed in the disposals CSV (Form 8949-style), which "
                           f"has all {len(disposals):,}.", small))
    else:
        story.append(p("No disposals in this tax year."))

    fx = summary.get("fx") or {}
    if fx.get("rates"):
        story += [CondPageBreak(SECTION_MIN_SPACE), Paragraph("Exchange rates used", h2)]
        story.append(p(f"{fx['converted_legs']:,} amounts entered in another currency were converted into "
                       f"{currency} at the European Central Bank's euro reference rate of their transaction's "
                       f"date (a cross rate through the euro), on {fx['days']:,} days. "
                       f"{fx['fallback_days']:,} of those days had no published rate (a weekend or a TARGET "
                       "holiday): the last rate published before it was used, as listed.", small))
        fallback = [r for r in fx["rates"] if r["fallback"]][:PDF_FX_ROWS]
        listed = fallback or fx["rates"][:PDF_FX_ROWS]
        rows = [["Transaction date", "From", f"Rate ({currency} per unit)", "ECB rate of"]]
        rows += [[r["day"], r["from"], f"{Decimal(r['rate']):.6f}", r["rate_day"]] for r in listed]
        story.append(table(rows, [35 * mm, 20 * mm, 45 * mm, 35 * mm]))
        left = (len([r for r in fx["rates"] if r["fallback"]]) if fallback else len(fx["rates"])) - len(listed)
        if left > 0:
            story.append(p(f"{left:,} more rows are in the report's summary (API and web page).", small))

    notes = list(summary.get("warnings", []))
    story += [Spacer(1, 4 * mm), CondPageBreak(SECTION_MIN_SPACE), Paragraph("Notes", h2)]
    story.append(p("This summary is computed by Yieldledger from the transactions you recorded. It is not tax "
                   "advice: check it with a qualified tax adviser before you file. Totals are rounded once from "
                   "full-precision sums, so a column of rounded rows may differ from its total by a few cents. "
                   "Proceeds are net of fees.", small))
    for note in notes[:20]:
        story.append(p(note, small))

    footer = f"Yieldledger · {title} · {user_label} · Not tax advice"

    def on_page(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#4a5866"))
        canvas.drawString(document.leftMargin, 10 * mm, footer[:120])
        canvas.drawRightString(document.pagesize[0] - document.rightMargin, 10 * mm, f"Page {document.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
