"""API input fields that apply the shared validator (``portfolios.validation``)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from rest_framework import serializers

from portfolios import validation


class MomentField(serializers.DateTimeField):
    """A date-time the ledger accepts: aware, from 2009-01-03 to a day ahead.

    A moment DRF cannot even convert to UTC (``0001-01-01T00:00+05:00``) gets the
    same answer as any other date before the first block, not "out of range"."""

    def to_internal_value(self, value: datetime | str) -> datetime:
        try:
            moment = super().to_internal_value(value)
        except serializers.ValidationError as exc:
            if "overflow" in getattr(exc, "get_codes", lambda: [])() or "out of range" in str(exc.detail):
                raise serializers.ValidationError(
                    f"{str(value)[:10]} is before {validation.EARLIEST_MOMENT:%Y-%m-%d}, the first block of Bitcoin; "
                    "check the date.", code="date") from None
            raise
        try:
            validation.check_moment(moment, self.field_name or "occurred_at", now=timezone.now())
        except validation.InputProblem as problem:
            raise serializers.ValidationError(problem.message[:1].upper() + problem.message[1:] + ".",
                                              code="date") from None
        return moment
