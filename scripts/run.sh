#!/usr/bin/env bash
# Install what the WBM needs (once), then serve it in embedded mode on http://127.0.0.1:8000.
# Extra arguments go to `manage.py runwbm` (e.g. --host 0.0.0.0 --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv
exec .venv/bin/python manage.py runwbm "$@"
