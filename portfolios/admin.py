"""Admin: read-only views of users' portfolios for support staff.

Writes go through ``portfolios.services`` (validation, price look-ups, the
revaluation task), so the admin does not add or change these rows; staff may
delete a portfolio on a user's request.
"""

from django.contrib import admin

from portfolios.models import Leg, Portfolio, PortfolioSnapshot, Position, PositionAmountOverride, Transaction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PositionInline(ReadOnlyInline):
    model = Position
    fields = ["kind", "pool", "label", "opened_at", "closed_at"]
    show_change_link = True


@admin.register(Portfolio)
class PortfolioAdmin(ReadOnlyAdmin):
    list_display = ["name", "owner", "value", "pnl", "valued_at", "created_at"]
    search_fields = ["name", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    inlines = [PositionInline]


class OverrideInline(ReadOnlyInline):
    model = PositionAmountOverride
    fields = ["token", "quantity", "as_of"]


@admin.register(Position)
class PositionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "portfolio", "opened_at", "closed_at"]
    list_filter = ["kind"]
    search_fields = ["label", "portfolio__name", "portfolio__owner__email", "pool__symbol"]
    list_select_related = ["portfolio", "pool"]
    raw_id_fields = ["portfolio", "pool"]
    inlines = [OverrideInline]


class LegInline(ReadOnlyInline):
    model = Leg
    fields = ["asset", "token", "quantity", "fiat_value", "value_source", "is_fee"]
    raw_id_fields = ["token"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "kind", "income_type", "portfolio", "position", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["description", "portfolio__name", "portfolio__owner__email"]
    list_select_related = ["portfolio", "position"]
    raw_id_fields = ["portfolio", "position"]
    date_hierarchy = "occurred_at"
    inlines = [LegInline]


@admin.register(PortfolioSnapshot)
class PortfolioSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["portfolio", "day", "value", "deposited", "pnl", "income_ytd"]
    list_select_related = ["portfolio"]
    raw_id_fields = ["portfolio"]
    date_hierarchy = "day"
