"""drf-spectacular extensions (imported by config/api/urls.py, so before any schema is
generated): the authentication schemes, and decimals that may be null."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension
from rest_framework import serializers


class JWTAuthScheme(OpenApiAuthenticationExtension):
    target_class = "allauth.headless.contrib.rest_framework.authentication.JWTTokenAuthentication"
    name = "appAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The access token from the app login (POST /api/auth/app/v1/auth/login); "
                           "short-lived, renewed with the refresh token (POST /api/auth/app/v1/tokens/refresh).",
        }


class LegacyTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.ExpiringTokenAuthentication"
    name = "legacyToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Deprecated: `Token <key>` from POST /api/v1/auth/token/.",
        }


class NullableDecimalOut(OpenApiSerializerFieldExtension):
    """``DecimalOut`` (a Decimal as a plain string) is null when the value is unknown: a new
    portfolio has no value yet, a position without prices has no PnL. Nullable unless it
    reads a model column that cannot be NULL."""

    target_class = "portfolios.api.serializers.DecimalOut"

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        nullable = True
        parent = getattr(field, "parent", None)
        model = getattr(getattr(parent, "Meta", None), "model", None)
        if isinstance(parent, serializers.ModelSerializer) and model is not None and "." not in field.source:
            try:
                nullable = model._meta.get_field(field.source).null
            except Exception:  # noqa: BLE001 - not a column: a computed value, may be null
                nullable = True
        schema: dict[str, Any] = {"type": "string", "format": "decimal", "readOnly": True}
        if field.help_text:
            schema["description"] = str(field.help_text)
        if nullable:
            schema["nullable"] = True
        return schema
