from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import views
from config.health import healthz

admin.site.site_header = "Yieldledger administration"
admin.site.site_title = "Yieldledger admin"
# The admin logs in through the site's login (its brute-force limits), then checks is_staff.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("status/", views.status, name="status"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("pools/", include("pools.urls")),
    path("portfolios/", include("portfolios.urls")),
    path("tax/", include("portfolios.tax.urls")),
    path("wallets/", include("portfolios.wallets.urls")),
    path("alerts/", include("alerts.urls")),
    path("learn/calculators/", include("pools.calculators.urls")),
    path("learn/", include("education.urls")),
    path("api/v1/", include("config.api.urls")),
    # App clients: allauth headless (sign-up, verification, login, tokens, password, sessions).
    path("api/auth/", include("allauth.headless.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI (packaged assets) sets a few inline styles: allow those, on this page only.
    path("api/docs/", csp_override({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]})(
        # GET only: DRF's OPTIONS answer would render this HTML view's template-less renderer (a 500).
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", http_method_names=["get", "head"])),
        name="api-docs"),
    path("favicon.ico", RedirectView.as_view(url="/" + settings.STATIC_URL.strip("/") + "/img/favicon.svg")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Under /api/ every error is problem JSON (config/api/exceptions.py); elsewhere Django's pages.
handler400 = "config.api.exceptions.api_bad_request"
handler403 = "config.api.exceptions.api_permission_denied"
handler404 = "config.api.exceptions.api_page_not_found"
handler500 = "config.api.exceptions.api_server_error"
