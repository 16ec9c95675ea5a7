"""Settings shared by every environment. Holds no secret: those come from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from crm.headers import csp_extend
from crm.schedules import BEAT_SCHEDULE

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Local working files (SQLite database, uploaded media) live under var/, which git ignores.
VAR_DIR = Path(env.str("CRM_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "crm",
    "customers",
    "orders",
    "grading",
    "valuation",
    "allocation",
    "audits",
    "visits",
    "services",
    # Last: the home page, a loop over the panels the apps above register.
    "home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above WhiteNoise: static files get the policies too (an SVG is a document).
    "crm.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before any view reads the address; after the user and the language are known (its page).
    "crm.middleware.RejectNulMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the outcome of authentication (django-axes' documented position).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.navigation",
            ],
        },
    },
]

# SQLite by default (the quick start needs no service); PostgreSQL when DATABASE_URL says so.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# visits_visit_flagged_cust_idx carries the customer (INCLUDE) so that PostgreSQL counts the
# flagged visits from the index alone; SQLite builds the same index without it, which is all
# this warning says, and it would otherwise print on every command of the quick start.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Redis when CACHE_URL says so (e.g. redis://127.0.0.1:6379/1); a per-process cache otherwise.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://crm")}

AUTH_USER_MODEL = "crm.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses authentication while a username/IP pair is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Failed-login throttling (django-axes, see crm/throttling.py): a username+address pair is
# locked after AXES_FAILURE_LIMIT failures, and an address after AXES_ADDRESS_FAILURE_LIMIT
# failures across any usernames (password spraying), each for the cool-off.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "crm.throttling.AddressLimitHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_VERBOSE = False
# Masked in the request data axes keeps with each failure: "password" always is; the password
# change and reset forms also post these (a wrong old password, a new one in clear).
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "old_password",
    "new_password1",
    "new_password2",
]
# Number of reverse proxies in front of gunicorn whose X-Forwarded-For is trusted (0 = none):
# the client address is read by crm.throttling.client_address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "crm.throttling.client_address"

# Password reset links (made by administrators) work once, until the password changes, and
# at most this long (Django's setting is in seconds).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_HOURS", default=24) * 60 * 60

# Outgoing mail (password reset links), e.g. EMAIL_URL=smtp+tls://user:password@host:587 or
# consolemail:// (printed in the server's log). Without EMAIL_URL no mail is sent at all: the
# reset link is shown to the administrator only, and the page says so.
EMAIL_URL = env.str("EMAIL_URL", default="")
EMAIL_ENABLED = bool(EMAIL_URL)
if EMAIL_ENABLED:
    vars().update(
        {key: value for key, value in env.email_url_config(EMAIL_URL).items() if value is not None}
    )
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy of every response (crm.middleware.SecurityHeadersMiddleware; the
# shape of Django 6.0's setting). Everything comes from this origin: the vendored libraries
# and our scripts in static/; no inline script, no inline style, no eval.
#   img-src data:    Bootstrap's CSS draws its small icons (select arrow, close button, navbar
#                    toggler, form validation) as data: SVG images.
#   connect-src      htmx, the visit form's fetch() and the API docs read this origin only.
#   object-src, base-uri 'none': no plugin; no <base> (an injected one would re-point every
#                    relative script address).
#   worker-src, manifest-src  the offline route's service worker (/sw.js) and web app
#                    manifest come from this origin (crm/offline.py).
#   form-action      forms post to this origin only (also where a post is redirected).
#   frame-ancestors  no page is framed (X-Frame-Options: DENY, for current browsers).
# Operators add sources with CSP_EXTRA, a header value, e.g. "img-src https://tiles.example.com;
# report-uri https://reports.example.com/csp": each source is added to the directive's own.
SECURE_CSP = csp_extend(
    {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
    env.str("CSP_EXTRA", default=""),
)
# A policy to try out before enforcing it: reported by the browser, not applied (same shape).
SECURE_CSP_REPORT_ONLY = csp_extend({}, env.str("CSP_REPORT_ONLY", default=""))

# Powerful browser features: denied on every page. A page that needs one allows it for this
# origin with crm.middleware.browser_features (the visit form: position and camera).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}

LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploaded files are never served from MEDIA_URL: views check the user's scope and answer with
# the file (crm.uploads.file_response). In production the web server may send the bytes after
# that check: "x-accel-redirect:/protected-media/" (nginx, an `internal` location aliasing
# MEDIA_ROOT) or "x-sendfile" (Apache mod_xsendfile, lighttpd). Empty: the application streams.
CRM_MEDIA_ACCEL = env.str("CRM_MEDIA_ACCEL", default="")
# Largest change-request attachment (PDF, JPEG, PNG or WebP); visit photos have their own
# limit on the visits settings page.
CRM_ATTACHMENT_MAX_MB = env.int("CRM_ATTACHMENT_MAX_MB", default=10)
# Customer imports (page and command), checked before a file is parsed: the most data rows
# (a city's licence list is tens of thousands; a larger load is split or raises this), the most
# uncompressed data (a CSV's size; the sum of an XLSX's members, which bounds the parser's time
# and memory: a 15-column licence list is about 0.8 KB of XML a row, 40 MB for 50,000 rows; a
# full 67-column export 3.5 KB, so up to about 28,000 customers) and the highest compression
# ratio of an XLSX member (spreadsheets compress 5-20 times; a "zip bomb" hundreds of times).
CRM_IMPORT_MAX_ROWS = env.int("CRM_IMPORT_MAX_ROWS", default=50_000)
CRM_IMPORT_MAX_MB = env.int("CRM_IMPORT_MAX_MB", default=100)
CRM_IMPORT_MAX_RATIO = env.int("CRM_IMPORT_MAX_RATIO", default=100)

# Largest body a bulk sync endpoint reads (1,000 orders × 20 lines is about 2 MB); the other
# API endpoints read up to Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB). Larger: 413.
SYNC_MAX_BYTES = env.int("SYNC_MAX_BYTES", default=32 * 1024 * 1024)
# How deep arrays and objects may nest in a JSON body of the API (the deepest documented body,
# an order sync, has 5 levels: body, orders, order, lines, line); deeper: 400.
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)

# The monthly grading run splits by area into a Celery chord (several workers read and
# aggregate in parallel) from this many customers on, into at most this many parts. Off by
# default (a threshold above any real company): every part scans the whole facts table for
# its areas, so on 200,000 customers each of 2 parts took about the in-process read's time
# (1.0-1.05×) and each of 8 parts 0.4-0.6×: on 2 cores the chord's reads alone take 1.0-2.0×
# the in-process run's before the broker and the body (bench_grading.py --shard-check,
# bench/README.md). 8 parts pay only with more than 4 free cores; set it (e.g. 200000) there.
GRADING_SPLIT_MIN_CUSTOMERS = env.int("GRADING_SPLIT_MIN_CUSTOMERS", default=1_000_000_000)
GRADING_MAX_PARTS = env.int("GRADING_MAX_PARTS", default=8)
# The monthly chain: tasks enqueued with the run id once a grading run has succeeded.
GRADING_FOLLOW_UP_TASKS = ["valuation.tasks.valuation_after_grading_task"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header turns anonymous requests into 401s.
        "crm.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON bounded in size and depth, with no NUL in text, and multipart bounded in size, files
    # included (crm.api.parsers), for every endpoint.
    "DEFAULT_PARSER_CLASSES": [
        "crm.api.parsers.NoNulJSONParser",
        "rest_framework.parsers.FormParser",
        "crm.api.parsers.BoundedMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "crm.api.pagination.StandardPagination",
    # Ours: the one error shape and the limits on every operation (see there).
    "DEFAULT_SCHEMA_CLASS": "crm.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        # Able to write a response quoting an unpaired surrogate (see there).
        "crm.api.renderers.ApiJSONRenderer",
        # DRF's, with inline styles allowed on its pages only (see there).
        "crm.api.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tobacco retail CRM API",
    "DESCRIPTION": (
        "REST API of the CRM. People authenticate with their browser session; integration "
        "clients send `Authorization: Token <token>` (see `manage.py create_api_client`)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI assets come from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Every enum of the schema is named here, one name per choice set: drf-spectacular would
    # otherwise name it after the field, and two different lists under one field name (the
    # customers' and the orders' `payment_method`) collide. tests/crm/test_schema_contract.py
    # fails on an enum named otherwise, on a collision, and on values that are not the choices.
    "ENUM_NAME_OVERRIDES": {
        "RoleEnum": "crm.choices.Role",
        "BusinessFormatEnum": "customers.choices.BusinessFormat",
        "MarketTypeEnum": "customers.choices.MarketType",
        # Business scale and outlet size: the same values and labels, so one enum.
        "SizeEnum": "customers.choices.BusinessScale",
        "CustomerStatusEnum": "customers.choices.CustomerStatus",
        "PremisesEnum": "customers.choices.Premises",
        "CustomerPaymentMethodEnum": "customers.choices.PaymentMethod",
        "CycleEnum": "customers.choices.Cycle",
        "TradeAreaEnum": "customers.choices.TradeArea",
        "OperatingStatusEnum": "customers.choices.OperatingStatus",
        "CareNeedEnum": "customers.choices.CareNeed",
        "CooperationEnum": "customers.choices.Cooperation",
        "LicenseTypeEnum": "customers.choices.LicenseType",
        "CreditRatingEnum": "customers.choices.CreditRating",
        "ValueTierEnum": "customers.choices.ValueTier",
        "PriceClassEnum": "orders.choices.PriceClass",
        "OrderStatusEnum": "orders.choices.OrderStatus",
        "OrderPaymentMethodEnum": "orders.choices.PaymentMethod",
        "VisitTypeEnum": "visits.choices.VisitType",
        "StockLevelEnum": "visits.choices.StockLevel",
        "PriceDisplayEnum": "visits.choices.PriceDisplay",
        "FollowUpStatusEnum": "visits.choices.FollowUpStatus",
        "ServiceRequestTypeEnum": "services.choices.RequestType",
        "ServiceRequestPriorityEnum": "services.choices.Priority",
        "ServiceRequestStatusEnum": "services.choices.RequestStatus",
        "AllocationPlanSyncStatusEnum": "allocation.choices.PlanSyncStatus",
        "AuditQuestionTypeEnum": "audits.choices.QuestionKind",
        "AuditFrequencyEnum": "audits.choices.Frequency",
        "AuditPriceUnitEnum": "audits.choices.PriceUnit",
    },
}

# Crash safety of the monthly runs (crm/jobs.py). A run holds its month with a lock that dies
# with its process, so a rerun after a crash starts at once; a run split over several workers
# (the grading chord) also counts as alive while one of its parts reported within this many
# seconds (its parts may wait in the broker behind other work).
JOB_HEARTBEAT_TIMEOUT = env.int("JOB_HEARTBEAT_TIMEOUT", default=15 * 60)
# The chaos tests' fault points (crm/faults.py); only the test settings turn them on.
CRM_FAULT_INJECTION = False

# Celery. With no broker configured, tasks run eagerly in-process (the quick start path).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TASK_TIME_LIMIT = 60 * 60 * 2
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 60 * 2 - 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = BEAT_SCHEDULE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}

# Customer codes and licence numbers: 12 digits by default; operators may change the pattern.
CRM_CODE_PATTERN = env.str("CRM_CODE_PATTERN", default=r"^\d{12}$")
