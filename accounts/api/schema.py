"""How the API's authentication classes appear in the OpenAPI schema (drf-spectacular
extensions; imported by AccountsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
