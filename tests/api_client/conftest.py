"""A typed Python client generated from the API's schema by openapi-python-client (the
version pinned in requirements-dev.txt), once per test session, into a temporary directory.

The generator runs offline, without its post-hooks (no ruff formatting of the generated code:
nothing to gain, and ruff is pinned for our own code) and with `--fail-on-warning`: a schema
construct it cannot represent fails the suite."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

PACKAGE = "crm_client"


def served_schema() -> dict:
    """The schema /api/v1/schema/?format=json serves, as plain JSON."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


@pytest.fixture(scope="session")
def openapi_schema() -> dict:
    return served_schema()


@pytest.fixture(scope="session")
def crm_client(tmp_path_factory, openapi_schema):
    """The generated package, imported (`crm_client.api…`, `crm_client.models…`)."""
    where = tmp_path_factory.mktemp("generated_client")
    schema_file = where / "schema.json"
    schema_file.write_text(json.dumps(openapi_schema, ensure_ascii=False), encoding="utf-8")
    config = where / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(schema_file),
        "--config",
        str(config),
        "--meta",
        "none",
        "--output-path",
        str(where / PACKAGE),
        "--fail-on-warning",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
