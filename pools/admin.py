"""Admin: staff edit protocol facts (audits, launch date, category, website) —
saved through ``services.risk.protocol_update_facts``, which rescores the protocol's
pools. Pool metrics are read-only (the refresh owns them). FX rates are
read-only too, except that staff may add a missing one by hand."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from pools.fx import ECB_CURRENCIES, EUR, normalize_currency
from pools.models import Chain, FxRate, Pool, PoolSnapshot, Protocol, ProtocolAudit, RefreshRun, Token, TokenPrice
from pools.services.fx import fx_rate_add_manual
from pools.services.history_requests import MAX_BACKFILLS_PER_REQUEST, pool_histories_request
from pools.services.risk import PROTOCOL_FACT_FIELDS, pool_risk_refresh, protocol_update_facts


class AuditLinksField(forms.CharField):
    """One URL per line <-> a JSON list of URLs."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 80})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(value)
        return value

    def to_python(self, value):
        lines = [line.strip() for line in (value or "").splitlines() if line.strip()]
        validator = forms.URLField()
        return [validator.clean(line) for line in lines]


class ProtocolForm(forms.ModelForm):
    audit_links = AuditLinksField(required=False, help_text="Links to the audit reports, one per line.")
    facts_references = AuditLinksField(required=False, label="Sources",
                                       help_text="Where these facts come from (links), one per line.")

    class Meta:
        model = Protocol
        fields = ["slug", "name", "category", "url", "audit_count", "audit_links", "last_audit_date", "launch_date",
                  "facts_references"]

    def clean(self):
        data = super().clean()
        links, count = data.get("audit_links") or [], data.get("audit_count")
        if count is not None and len(links) > count:
            self.add_error("audit_count", "Fewer audits than audit links.")
        return data


@admin.register(Chain)
class ChainAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "coins_prefix"]
    search_fields = ["name", "slug"]


class ProtocolAuditInline(admin.TabularInline):
    model = ProtocolAudit
    extra = 0
    fields = ["auditor", "date", "url", "scope"]


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    form = ProtocolForm
    inlines = [ProtocolAuditInline]
    list_display = ["name", "slug", "category", "audit_count", "last_audit_date", "launch_date", "facts_source",
                    "facts_updated_at"]
    list_filter = ["category", "facts_source"]
    search_fields = ["name", "slug"]
    readonly_fields = ["facts_source", "facts_updated_at"]
    fieldsets = [
        (None, {"fields": ["slug", "name", "category", "url"]}),
        ("Facts used by the risk score", {
            "fields": ["audit_count", "audit_links", "last_audit_date", "launch_date", "facts_references",
                       "facts_source", "facts_updated_at"],
            "description": "Leave a fact empty when unknown: the risk score counts unknown as risky. Once saved "
                           "here, the facts are yours: the bundled facts file no longer overwrites them. The audit "
                           "list below is shown on pool pages; its count and latest date fill in the fields above "
                           "when those say less.",
        }),
    ]

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
        self._facts = {k: form.cleaned_data.get(k) for k in PROTOCOL_FACT_FIELDS if k in form.cleaned_data}
        self._facts["audit_links"] = self._facts.get("audit_links") or []
        self._facts["facts_references"] = self._facts.get("facts_references") or []
        self._facts["category"] = self._facts.get("category") or ""
        self._facts["url"] = self._facts.get("url") or ""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        protocol = form.instance
        facts = dict(self._facts)
        audits = list(protocol.audits.all())
        if audits:  # the list is the detail; the summary fields never say less than it
            facts["audit_count"] = max(facts.get("audit_count") or 0, len(audits))
            dates = [a.date for a in audits if a.date] + ([facts["last_audit_date"]] if facts.get("last_audit_date")
                                                          else [])
            facts["last_audit_date"] = max(dates) if dates else None
        protocol_update_facts(protocol=protocol, **facts)


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = ["symbol", "chain", "address", "is_stablecoin", "price_id", "price_symbol", "is_tracked",
                    "last_price_usd", "last_price_at"]
    list_filter = ["is_tracked", "is_stablecoin", "chain"]
    search_fields = ["symbol", "address", "price_id"]
    list_select_related = ["chain"]
    readonly_fields = ["last_price_usd", "last_price_at"]
    show_full_result_count = False


METRIC_FIELDS = [
    "tvl_usd", "apy", "apy_base", "apy_reward", "apy_mean_30d", "apy_mean_30d_computed", "apy_sigma_30d",
    "apy_base_7d", "apy_pct_1d", "apy_pct_7d", "apy_pct_30d", "volume_usd_1d", "volume_usd_7d", "il_7d", "mu",
    "sigma", "count", "outlier", "predicted_class", "predicted_probability", "binned_confidence",
    "history_start", "first_seen_at", "last_seen_at", "changed_at", "missed_refreshes", "history_backfilled_at",
    "risk_score", "risk_grade", "derived_fields", "tokens_key",
]  # fmt: skip


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["symbol", "protocol", "chain", "kind", "tvl_usd", "apy", "risk_grade", "risk_score", "is_active",
                    "last_seen_at"]
    list_filter = ["is_active", "kind", "stablecoin", "il_risk", "exposure", "risk_grade", "chain", "protocol"]
    search_fields = ["symbol", "external_id", "meta"]
    list_select_related = ["chain", "protocol"]
    readonly_fields = ["external_id", "chain", "protocol", *METRIC_FIELDS]
    fields = ["external_id", "chain", "protocol", "symbol", "meta", "kind", "stablecoin", "il_risk", "exposure",
              "is_active", *METRIC_FIELDS]
    actions = ["backfill_history", "recompute_risk"]
    show_full_result_count = False  # COUNT(*) over every pool on each changelist page is wasted work

    @admin.action(description="Backfill history (queued)")
    def backfill_history(self, request, queryset):
        queued = pool_histories_request(pool_ids=queryset.values_list("pk", flat=True)[:MAX_BACKFILLS_PER_REQUEST])
        self.message_user(request, f"History backfill queued for {queued} pool(s).", messages.SUCCESS)

    @admin.action(description="Recompute risk score")
    def recompute_risk(self, request, queryset):
        changed = pool_risk_refresh(pool_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Risk recomputed; {changed} pool(s) changed.", messages.SUCCESS)


@admin.register(PoolSnapshot)
class PoolSnapshotAdmin(admin.ModelAdmin):
    list_display = ["pool", "day", "tvl_usd", "apy", "apy_base", "apy_reward"]
    date_hierarchy = "day"
    raw_id_fields = ["pool"]
    list_select_related = ["pool"]
    search_fields = ["pool__external_id"]
    show_full_result_count = False


@admin.register(TokenPrice)
class TokenPriceAdmin(admin.ModelAdmin):
    list_display = ["token", "timestamp", "price_usd", "quoted_at", "source"]
    raw_id_fields = ["token"]
    list_select_related = ["token__chain"]
    search_fields = ["token__symbol", "token__address"]
    list_filter = ["source"]
    show_full_result_count = False


class FxRateForm(forms.ModelForm):
    class Meta:
        model = FxRate
        fields = ["currency", "day", "rate"]
        help_texts = {"rate": "Units of the currency per 1 EUR, as the ECB publishes it (e.g. 1.0890 for USD)."}

    def clean_currency(self):
        code = normalize_currency(self.cleaned_data["currency"])
        if code not in ECB_CURRENCIES or code == EUR:
            raise forms.ValidationError("Not a currency the ECB publishes a euro rate for.")
        return code


@admin.register(FxRate)
class FxRateAdmin(admin.ModelAdmin):
    """Read-mostly: rates come from the ECB. Staff may add a rate the feed lacks or
    rejected (saved as source "manual"; it becomes the reference for the next
    day's move check) but never change or delete one: reports depend on them."""

    form = FxRateForm
    list_display = ["day", "currency", "rate", "source", "fetched_at"]
    list_filter = ["source", "currency"]
    search_fields = ["currency"]
    date_hierarchy = "day"
    fields = ["currency", "day", "rate", "source", "fetched_at"]
    show_full_result_count = False  # 220k rows of history

    def get_readonly_fields(self, request, obj=None):
        return ["currency", "day", "rate", "source", "fetched_at"] if obj else ["source", "fetched_at"]

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        fx_rate_add_manual(currency=obj.currency, day=obj.day, rate=obj.rate)


@admin.register(RefreshRun)
class RefreshRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "kind", "source", "status", "created", "updated", "unchanged", "rejected",
                    "deactivated", "spike_skipped", "finished_at"]
    list_filter = ["kind", "status", "source"]
    readonly_fields = [f.name for f in RefreshRun._meta.fields]

    def has_add_permission(self, request):
        return False
