"""Forms of the alerts pages (the services validate again; these only parse)."""

from __future__ import annotations

from typing import Any

from django import forms

from alerts.models import AlertPreference, AlertRule
from pools.models import Pool
from portfolios.models import Position


class RuleForm(forms.Form):
    condition = forms.ChoiceField(choices=AlertRule.Condition.choices)
    threshold = forms.DecimalField(required=False, min_value=0, max_digits=22, decimal_places=10,
                                   help_text="Percent (for “APY below”: the APY in percent). Not needed for range "
                                             "exits, risk grade and reward alerts.")
    pool = forms.IntegerField(required=False, widget=forms.NumberInput, label="Pool id",
                              help_text="The number in the pool page's address (/pools/<id>/).")
    position = forms.ModelChoiceField(queryset=Position.objects.none(), required=False,
                                      help_text="Or one of your open positions (its pool is watched).")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        position_field = self.fields["position"]
        assert isinstance(position_field, forms.ModelChoiceField)
        position_field.queryset = (Position.objects.filter(portfolio__owner=user, closed_at__isnull=True,
                                                           pool__isnull=False)
                                   .select_related("pool").order_by("-opened_at", "-id"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pool_id, position = data.get("pool"), data.get("position")
        if position is None and pool_id is None:
            raise forms.ValidationError("Choose a pool or one of your positions.")
        if position is None:
            pool = Pool.objects.filter(pk=pool_id).first() if pool_id is not None else None
            if pool is None:
                self.add_error("pool", "No pool with this id.")
            data["pool_obj"] = pool
        return data

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"condition": d["condition"], "threshold": d.get("threshold"), "position": d.get("position"),
                "pool": d.get("pool_obj")}


class PreferenceForm(forms.Form):
    email = forms.ChoiceField(choices=AlertPreference.Email.choices, widget=forms.RadioSelect,
                              label="Alert emails")
