"""Serializer fields shared by the API."""

from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A CharField that refuses JSON numbers and booleans instead of quietly turning them into
    text (DRF's default): ``{"name": 0}`` is a 400, as the schema (type string) says."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)
