# The CRM's one image: web (gunicorn), Celery worker and Celery beat run from it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=crm.settings.production

WORKDIR /app
RUN useradd --create-home --uid 10001 crm
COPY requirements.txt ./
RUN pip install --disable-pip-version-check -r requirements.txt
COPY . .
# collectstatic needs settings to import; the key is a throw-away used only for this step.
RUN SECRET_KEY=build-only-collectstatic python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media && chown -R crm:crm /app/var
USER crm
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
