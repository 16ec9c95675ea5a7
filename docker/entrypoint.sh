#!/bin/sh
# One image, three roles: web (migrates, then gunicorn), worker, beat.
set -e
case "${1:-web}" in
  web)
    python manage.py migrate --noinput
    if [ "${CRM_SEED_DEMO:-false}" = "true" ]; then python manage.py seed_demo --force; fi
    exec gunicorn crm.wsgi:application --bind 0.0.0.0:8000 \
      --workers "${GUNICORN_WORKERS:-3}" --access-logfile - --timeout 60
    ;;
  worker)
    exec celery -A crm worker --loglevel "${LOG_LEVEL:-INFO}" --concurrency "${CELERY_CONCURRENCY:-2}"
    ;;
  beat)
    # Exactly one beat process: the schedule lives in crm/schedules.py.
    exec celery -A crm beat --loglevel "${LOG_LEVEL:-INFO}" --schedule /tmp/celerybeat-schedule
    ;;
  *)
    exec "$@"
    ;;
esac
