"""Every periodic job, declared in one place (read by settings as CELERY_BEAT_SCHEDULE).

Exactly one `celery beat` process may run (docker-compose.yml starts one). Jobs that must not
overlap take a database lock themselves; the schedule alone does not prevent overlap.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    "sessions-clear-expired-daily": {
        "task": "crm.tasks.sessions_clear_expired_task",
        "schedule": crontab(hour=3, minute=15),
    },
    "login-attempts-prune-daily": {
        "task": "crm.tasks.login_attempts_prune_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "idempotency-records-prune-daily": {
        "task": "crm.tasks.idempotency_records_prune_task",
        "schedule": crontab(hour=3, minute=45),
    },
    # Shortly after midnight, so the purchase window has moved on when people start work.
    "purchase-figures-refresh-daily": {
        "task": "orders.tasks.purchase_figures_refresh_task",
        "schedule": crontab(hour=0, minute=20),
    },
    # The facts a stopped import or seed left marked stale are right within half an hour.
    "sales-facts-pending-drain": {
        "task": "orders.tasks.sales_facts_pending_drain_task",
        "schedule": crontab(minute="5,35"),
    },
    # The first of each month, early morning, after the night's order sync: grade the new month.
    "grading-recompute-monthly": {
        "task": "grading.tasks.grading_monthly_task",
        "schedule": crontab(day_of_month=1, hour=2, minute=0),
    },
    # Daily, after the purchase figures (last order dates) have moved on.
    "valuation-warnings-refresh-daily": {
        "task": "valuation.tasks.warnings_refresh_task",
        "schedule": crontab(hour=0, minute=40),
    },
    # Daily, after the night's order sync and the purchase figures: the quota take-up of the
    # month (and on the 1st, of the month just ended) for the supervisors' morning.
    "allocation-takeup-daily": {
        "task": "allocation.tasks.takeup_daily_task",
        "schedule": crontab(hour=1, minute=0),
    },
    # Daily, early, so each account manager's agenda is ready when the day starts.
    "visits-plan-daily": {
        "task": "visits.tasks.visits_plan_task",
        "schedule": crontab(hour=5, minute=0),
    },
    # Overdue service requests reach the supervisor within a quarter of an hour.
    "services-escalate": {
        "task": "services.tasks.service_requests_escalate_task",
        "schedule": crontab(minute="*/15"),
    },
    # Daily, after the visit plan, so the care list greets account managers in the morning.
    "services-care-due-daily": {
        "task": "services.tasks.care_due_notify_task",
        "schedule": crontab(hour=5, minute=30),
    },
}
