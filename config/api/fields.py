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


class StrictBooleanField(serializers.BooleanField):
    """A BooleanField that takes JSON ``true`` or ``false`` only, not ``"yes"``, ``1`` or ``"on"``
    (DRF's default accepts those), as the schema (type boolean) says."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def query_flag(request: Any, name: str) -> bool:
    """A boolean query parameter: ``true`` or ``false`` (absent: false); anything else is a 400,
    so a client's typo is not silently read as false."""
    values = request.query_params.getlist(name)
    if not values:
        return False
    if len(values) == 1 and values[0] in ("true", "false"):
        return values[0] == "true"
    raise serializers.ValidationError({name: ["Give true or false."]})
