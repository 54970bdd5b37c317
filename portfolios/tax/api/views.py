"""/api/v1/tax-reports/: request, follow and download tax reports (the user's own).

* ``POST /tax-reports/`` ``{year, jurisdiction?, method?, lp_treatment?, timezone?, portfolio?}``
  answers ``202 Accepted`` with the report (``Location``: its URL) while it is
  being built, or ``200 OK`` (same body and ``Location``) when a report with
  exactly these inputs is already done - nothing is recomputed. Missing
  settings come from the user's preferences; the UK always uses UK pooling.
* ``GET /tax-reports/`` the user's reports, newest first (paginated).
* ``GET /tax-reports/{id}/`` status, progress and - when done - the summary
  (amounts as strings) and the links of its files.
* ``GET /tax-reports/{id}/files/{kind}/`` ``csv-disposals``, ``csv-income`` or ``pdf``.

Another user's report is a 404 on every route and method.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api.ordering import StrictOrderingFilter
from portfolios.selectors import portfolio_get_for_user
from portfolios.tax import selectors as sel
from portfolios.tax.api.serializers import TaxReportDetailOut, TaxReportIn, TaxReportOut
from portfolios.tax.models import TaxReport, TaxReportFile
from portfolios.tax.services import TaxRequestError, tax_report_request


@extend_schema_view(
    list=extend_schema(summary="Your tax reports", responses=TaxReportOut(many=True), tags=["tax"]),
    retrieve=extend_schema(summary="A tax report: status, progress, summary and files when done",
                           responses=TaxReportDetailOut, tags=["tax"]),
    create=extend_schema(
        summary="Request a tax report (built in the background)", request=TaxReportIn, tags=["tax"],
        responses={202: OpenApiResponse(TaxReportDetailOut, description="queued or being built; poll Location"),
                   200: OpenApiResponse(TaxReportDetailOut, description="already built with these inputs")}),
)
class TaxReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = TaxReport.objects.none()
    lookup_value_regex = r"[0-9]+"  # /tax-reports/abc/ is a 404, not a 500 from int("abc")
    filter_backends: list = [StrictOrderingFilter]
    ordering_fields = ["year", "created_at", "id"]

    def get_queryset(self):
        return sel.tax_reports_for_user(user=self.request.user)

    def get_object(self):
        return sel.tax_report_get_for_user(user=self.request.user, report_id=self.kwargs["pk"])

    def get_serializer_class(self):
        return TaxReportDetailOut if self.action == "retrieve" else TaxReportOut

    def create(self, request):
        data = TaxReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        portfolio = None
        if values.get("portfolio") is not None:
            portfolio = portfolio_get_for_user(user=request.user, portfolio_id=values["portfolio"])  # 404 if not yours
        try:
            report, _ = tax_report_request(
                owner=request.user, year=values["year"], portfolio=portfolio,
                jurisdiction=values.get("jurisdiction"), method=values.get("method"),
                lp_treatment=values.get("lp_treatment"), timezone=values.get("timezone"))
        except TaxRequestError as exc:
            raise serializers.ValidationError({exc.field or "detail": [str(exc)]}) from exc
        report.refresh_from_db()  # an eager build (embedded default) may already have finished
        body = TaxReportDetailOut(report, context={"request": request}).data
        code = status.HTTP_200_OK if report.status == TaxReport.Status.DONE else status.HTTP_202_ACCEPTED
        return Response(body, status=code, headers={"Location": body["url"]})

    @extend_schema(
        summary="Download a file of a finished report", tags=["tax"],
        parameters=[OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH,
                                     enum=list(TaxReportFile.Kind.values))],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path=r"files/(?P<kind>[a-z0-9-]+)", url_name="file")
    def files(self, request, pk=None, kind=None):
        report = self.get_object()
        file = sel.tax_report_file_get(report=report, kind=kind)
        response = HttpResponse(bytes(file.content), content_type=file.content_type)
        response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
        return response
