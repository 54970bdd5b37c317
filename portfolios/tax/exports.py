"""Files of a tax report: Form 8949-style disposals CSV, income CSV, PDF summary.

Pure writers (no database): they take the engine's records and the report's
summary (``build`` makes both) and return bytes.

Disposals CSV (one row per disposal record of the tax year)
    Columns follow IRS Form 8949: (a) description of property ("0.5 ETH"),
    (b) date acquired ("VARIOUS" for average cost and UK pools), (c) date sold
    or disposed of, (d) proceeds, (e) cost or other basis, (f) adjustment
    code, (g) adjustment amount, (h) gain or (loss); then our own columns
    (part, asset, quantity, term, matching rule, fee deducted, transactions,
    tax year). Rows are grouped short-term first (Part I), then long-term
    (Part II); UK reports have no holding-period split. Proceeds are already
    net of fees (the fee is shown in its own column), so no adjustment code
    or amount is ever needed and those columns stay empty: a tool that wants
    them finds them. Dates are MM/DD/YYYY for the US (as on the form) and
    YYYY-MM-DD otherwise. Money in the user's fiat with 2 decimals, a minus
    sign for losses.

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
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from portfolios.tax.engine import Disposal, IncomeEvent, cents
from portfolios.tax.engine.quantities import plain as quantity

#: Room a section needs at the foot of a page to start there: its heading, a table header and a few rows.
SECTION_MIN_SPACE_MM = 40
#: Disposal rows printed in the PDF; the CSV always has them all.
PDF_DISPOSAL_ROWS = 1500

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
]
PARTS = {"short": "Part I (short-term)", "long": "Part II (long-term)", None: "No holding-period split"}
_PART_ORDER = {"short": 0, "long": 1, None: 2}
INCOME_TYPE_LABELS = {
    "staking": "Staking",
    "liquidity_mining": "Liquidity mining",
    "lp_fees": "LP fees",
    "interest": "Interest",
    "airdrop": "Airdrop",
    "mining": "Mining",
    "other": "Other income",
}


def money(value: Decimal | str) -> str:
    """Cents, plain: ``-1234.50``."""
    return str(cents(Decimal(value)))


def money_grouped(value: Decimal | str | None) -> str:
    """Cents with thousands separators: ``-1,234.50`` (the PDF)."""
    if value is None:
        return "n/a"
    return f"{cents(Decimal(value)):,}"


def form_date(value: date | str, jurisdiction: str) -> str:
    if isinstance(value, str):  # "various"
        return value.upper()
    return value.strftime("%m/%d/%Y") if jurisdiction == "us" else value.isoformat()


def _csv(rows: Iterable[Sequence[str]], header: Sequence[str]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    # A BOM so spreadsheet programs read UTF-8 (position labels may not be ASCII).
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _refs(tx_ref: str) -> str:
    return " ".join(f"#{ref}" for ref in tx_ref.split(",") if ref)


def sorted_disposals(disposals: Iterable[Disposal]) -> list[Disposal]:
    """Form order: Part I, then Part II (then no split), each by date sold."""
    return sorted(disposals, key=lambda d: (_PART_ORDER.get(d.term, 2), d.disposed, d.disposed_at or d.disposed))


def disposals_csv(disposals: Iterable[Disposal], *, jurisdiction: str) -> bytes:
    rows = (
        [
            PARTS.get(d.term, ""),
            f"{quantity(d.quantity)} {d.asset}",
            form_date(d.acquired, jurisdiction),
            form_date(d.disposed, jurisdiction),
            money(d.proceeds),
            money(d.cost_basis),
            "",
            "",
            money(d.gain),
            d.asset,
            quantity(d.quantity),
            d.term or "",
            d.rule,
            money(d.fee),
            _refs(d.tx_ref),
            d.tax_year,
        ]
        for d in sorted_disposals(disposals)
    )
    return _csv(rows, DISPOSAL_COLUMNS)


def income_csv(income: Iterable[IncomeEvent], *, position_labels: Mapping[str, str], jurisdiction: str) -> bytes:
    rows = (
        [
            form_date(e.received, jurisdiction),
            INCOME_TYPE_LABELS.get(e.income_type, e.income_type),
            e.asset,
            quantity(e.quantity),
            money(e.fair_market_value),
            position_labels.get(e.position or "", e.position or ""),
            _refs(e.tx_ref),
            e.tax_year,
        ]
        for e in sorted(income, key=lambda e: (e.occurred_at, e.tx_ref))
    )
    return _csv(rows, INCOME_COLUMNS)


# --------------------------------------------------------------------------- PDF


def summary_pdf(summary: Mapping, disposals: Sequence[Disposal], *, user_label: str, generated_at: datetime,
                max_rows: int = PDF_DISPOSAL_ROWS) -> bytes:
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
        style = [
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
    facts = [
        ["Prepared for", user_label],
        ["Tax year", f"{summary['tax_year']} ({period['start']} to {period['end']})"],
        ["Jurisdiction", settings["jurisdiction_label"]],
        ["Cost-basis method", settings["method_label"]],
        ["DeFi LP treatment", settings["lp_treatment_label"]],
        ["Time zone", settings["timezone"]],
        ["Portfolios", summary.get("portfolio") or "All portfolios"],
        ["Currency", currency],
        ["Generated", generated_at.strftime("%Y-%m-%d %H:%M UTC")],
    ]
    story: list = [Paragraph(escape(title), h1), Spacer(1, 2 * mm)]
    facts_table = Table([[p(k, cell), p(v, cell)] for k, v in facts], colWidths=[40 * mm, 130 * mm], hAlign="LEFT")
    facts_table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                     ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    story += [facts_table, Spacer(1, 4 * mm)]

    story += [CondPageBreak(SECTION_MIN_SPACE), Paragraph("Totals", h2)]
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
        rows = [["Asset", f"Proceeds ({currency})", f"Gain or (loss) ({currency})"]]
        rows += [[k, money_grouped(proceeds_by_asset.get(k, "0")), money_grouped(v)]
                 for k, v in sorted(gain_by_asset.items())]
        story.append(table(rows, [70 * mm, 45 * mm, 45 * mm]))

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

    story += [CondPageBreak(SECTION_MIN_SPACE), Paragraph("Disposals", h2)]
    shown = list(disposals[:max_rows])
    if shown:
        rows = [["Description", "Acquired", "Sold", "Proceeds", "Cost basis", "Gain or (loss)",
                 "Term" if jurisdiction != "uk" else "Rule"]]
        for d in shown:
            rows.append([f"{quantity(d.quantity)} {d.asset}"[:34], form_date(d.acquired, jurisdiction),
                         form_date(d.disposed, jurisdiction), money_grouped(d.proceeds),
                         money_grouped(d.cost_basis), money_grouped(d.gain),
                         (d.term or "") if jurisdiction != "uk" else d.rule])
        story.append(table(rows, [50 * mm, 20 * mm, 20 * mm, 22 * mm, 22 * mm, 22 * mm, 22 * mm], numeric_from=3))
        more = len(disposals) - len(shown)
        if more > 0:
            story.append(p(f"{more:,} more disposals are listed in the disposals CSV (Form 8949-style), which "
                           f"has all {len(disposals):,}.", small))
    else:
        story.append(p("No disposals in this tax year."))

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
