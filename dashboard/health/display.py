"""What the health templates need beside the shared filters: webhook outcomes, the cap."""

from __future__ import annotations

from dashboard.health.blueprint import bp
from dashboard.models import WebhookEvent
from dashboard.services.daily_budget import DAILY_LIMIT
from dashboard.services.webhook_health import label_of
from dashboard.services.webhook_tallies import OUTCOMES as TALLY_LABELS


@bp.app_template_filter("webhook_outcome")
def webhook_outcome(event: WebhookEvent) -> str:
    return label_of(event)


@bp.app_context_processor
def health_globals() -> dict[str, object]:
    return {"daily_limit": DAILY_LIMIT, "webhook_tally_labels": TALLY_LABELS}
