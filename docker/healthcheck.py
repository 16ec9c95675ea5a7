"""Container health check for the web service: GET /health/ as the proxy would send it
(an allowed Host, X-Forwarded-Proto https), so HTTPS redirects and host checks pass."""

import os
import sys
import urllib.request

host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
request = urllib.request.Request(
    "http://127.0.0.1:8000/health/",
    headers={"Host": host or "localhost", "X-Forwarded-Proto": "https"},
)
try:
    with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - fixed local URL
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
