"""Fails when a translatable string in the code is missing from the zh-hans catalogue, or is
there without a translation (empty or fuzzy).

Runs `makemessages` on a copy of the catalogue and compares the message ids, so the committed
files are not touched. Needs GNU gettext (xgettext).
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        backup = Path(tmp) / "django.po"
        shutil.copy2(PO, backup)
        try:
            subprocess.run(
                [
                    sys.executable,
                    "manage.py",
                    "makemessages",
                    "-l",
                    "zh_Hans",
                    "--no-obsolete",
                    "-i",
                    ".venv/*",
                    "-i",
                    "static/*",
                    "-i",
                    "tests/*",
                    "-i",
                    "bench/*",
                ],
                cwd=ROOT,
                check=True,
                capture_output=True,
                env={**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings.local"},
            )
            current = {e.msgid for e in polib.pofile(str(PO))}
        finally:
            shutil.copy2(backup, PO)
    catalogue = polib.pofile(str(PO))
    committed = {e.msgid for e in catalogue}
    missing, stale = sorted(current - committed), sorted(committed - current)
    # In the catalogue but with an empty or fuzzy translation (plural forms included).
    missing += sorted(e.msgid for e in catalogue if e.msgid in current and not e.translated())
    for msgid in missing:
        print(f"not in locale/zh_Hans django.po: {msgid!r}")
    for msgid in stale:
        print(f"no longer in the code: {msgid!r}")
    if missing or stale:
        print(
            "Run: python manage.py makemessages -l zh_Hans --no-obsolete -i '.venv/*' "
            "-i 'static/*' -i 'tests/*', translate, then compilemessages -l zh_Hans -i .venv"
        )
        return 1
    print(f"Translations complete: {len(committed)} messages.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
