"""Watchlist, alert rules, notifications and per-user alert preferences.

Writes go through ``alerts.services``; reads through ``alerts.selectors``. The
conditions and the once-per-episode state machine are pure (``alerts.rules``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from alerts.conditions import ARMED, FIRING, Condition

# Percentages and TVL as pools.models stores them: 22 digits with 10 decimals, 20 with 2.
CONDITIONS = [c.value for c in Condition]


class WatchedPool(models.Model):
    """A pool the user starred, with what it looked like when they last looked
    (``seen_*``: the dashboard shows what changed since)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watched_pools",
                             db_index=False)  # covered by the (user, pool) unique index
    pool = models.ForeignKey("pools.Pool", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    seen_at = models.DateTimeField()
    seen_apy = models.DecimalField(max_digits=22, decimal_places=10, null=True, blank=True)
    seen_apy_mean_30d = models.DecimalField(max_digits=22, decimal_places=10, null=True, blank=True)
    seen_tvl_usd = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    seen_risk_grade = models.CharField(max_length=1, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Also the index of the user's watchlist and of "is this pool starred?".
            models.UniqueConstraint(fields=["user", "pool"], name="alerts_watched_user_pool_uniq",
                                    violation_error_message="You already watch this pool."),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.pool_id}"


class AlertRule(models.Model):
    class Condition(models.TextChoices):
        APY_BELOW = Condition.APY_BELOW.value, "APY below a value"
        APY_DROP = Condition.APY_DROP.value, "APY down X % against its 7-day mean"
        TVL_DROP = Condition.TVL_DROP.value, "TVL down X % in 24 hours"
        OUT_OF_RANGE = Condition.OUT_OF_RANGE.value, "Concentrated position out of range"
        NEAR_EDGE = Condition.NEAR_EDGE.value, "Concentrated position within X % of a range edge"
        DEPEG = Condition.DEPEG.value, "A stablecoin off its peg by more than X %"
        RISK_WORSE = Condition.RISK_WORSE.value, "Risk grade worse"
        REWARDS_ENDED = Condition.REWARDS_ENDED.value, "Reward emissions ended"

    class State(models.TextChoices):
        ARMED = ARMED, "Armed"
        FIRING = FIRING, "Firing"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules",
                             db_index=False)  # covered by alerts_rule_user_idx
    # Always set: a position rule watches its position's pool (positions without a pool have no rules).
    pool = models.ForeignKey("pools.Pool", on_delete=models.CASCADE, related_name="+", db_index=False)
    position = models.ForeignKey("portfolios.Position", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="+")
    condition = models.CharField(max_length=20, choices=Condition.choices)
    threshold = models.DecimalField(max_digits=22, decimal_places=10, null=True, blank=True)
    baseline_grade = models.CharField(max_length=1, blank=True)  # risk_worse: grade when made
    # rewards_ended: the reward APY when the rule was made.
    baseline_reward = models.DecimalField(max_digits=22, decimal_places=10, null=True, blank=True)
    is_paused = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ARMED)
    episode = models.PositiveIntegerField(default=0)  # firings so far; the notification's episode number
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(condition__in=CONDITIONS), name="alerts_rule_condition_valid"),
            models.CheckConstraint(condition=Q(state__in=[ARMED, FIRING]), name="alerts_rule_state_valid"),
            models.CheckConstraint(
                condition=Q(threshold__isnull=True) | Q(threshold__gte=0), name="alerts_rule_threshold_not_negative",
                violation_error_message="The threshold cannot be negative."),
            models.CheckConstraint(
                condition=~Q(condition__in=["out_of_range", "near_edge"]) | Q(position__isnull=False),
                name="alerts_rule_range_needs_position",
                violation_error_message="Range alerts are for a concentrated position."),
        ]
        indexes = [
            # services.alerts_evaluate: the live rules of the pools a refresh changed.
            models.Index(fields=["pool", "id"], name="alerts_rule_live_pool_idx", condition=Q(is_paused=False)),
            # selectors.rule_list_for_user (page and API), newest first.
            models.Index(F("user"), F("created_at").desc(), name="alerts_rule_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_condition_display()} on {self.pool_id}"


class Notification(models.Model):
    """One firing of a rule: one per episode (unique rule + episode)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_notifications",
                             db_index=False)  # covered by alerts_notif_user_idx
    rule = models.ForeignKey(AlertRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="notifications",
                             db_index=False)  # covered by the (rule, episode) unique index
    # No index: pools are never deleted (only deactivated), and nothing lists notifications by
    # pool; one index fewer to maintain on the evaluation's bulk insert.
    pool = models.ForeignKey("pools.Pool", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                             db_index=False)
    condition = models.CharField(max_length=20, choices=AlertRule.Condition.choices)
    episode = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Once per episode, even if an evaluation runs twice (insert ... on conflict do nothing).
            models.UniqueConstraint(fields=["rule", "episode"], name="alerts_notif_rule_episode_uniq"),
        ]
        indexes = [
            # The notification centre and API list: a user's notifications, newest first.
            models.Index(F("user"), F("created_at").desc(), F("id").desc(), name="alerts_notif_user_idx"),
            # The unread count in the navigation (every page): a user's unread rows.
            models.Index(fields=["user"], name="alerts_notif_unread_idx", condition=Q(read_at__isnull=True)),
            # The email senders: rows not yet emailed.
            models.Index(fields=["user", "id"], name="alerts_notif_unsent_idx", condition=Q(emailed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title


class AlertPreference(models.Model):
    """How a user wants alert emails; no row = the default (immediate)."""

    class Email(models.TextChoices):
        IMMEDIATE = "immediate", "Immediately"
        DAILY = "daily", "Daily digest"
        OFF = "off", "No emails (notifications stay in the app)"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="alert_preference")
    email = models.CharField(max_length=10, choices=Email.choices, default=Email.IMMEDIATE)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)  # set by the email's unsubscribe link
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(email__in=["immediate", "daily", "off"]),
                                   name="alerts_pref_email_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.email}"
