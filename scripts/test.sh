#!/usr/bin/env bash
# The whole test suite: installs what it needs, checks, lints, then unit/integration tests and,
# in their own pytest run, the browser tests (Playwright + Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_system_packages
ensure_venv
ensure_node_peer
export WBM_STATE_DIR="${WBM_STATE_DIR:-$(mktemp -d)}"
echo "== Django checks"
.venv/bin/python manage.py check --fail-level WARNING
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
WBM_HTTPS=1 .venv/bin/python manage.py check --deploy --fail-level WARNING
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy"
.venv/bin/mypy .
# two pytest workers (pytest-xdist): the suite waits on subprocesses, servers and browsers much of
# the time, so two workers halve it on a 2-core machine; WBM_TEST_WORKERS=0 runs it in one process
workers=(-n "${WBM_TEST_WORKERS:-2}")
echo "== tests"
.venv/bin/python -m pytest -m "not e2e" -q "${workers[@]}" "$@"
echo "== browser tests"
.venv/bin/python -m pytest -m e2e -q "${workers[@]}" "$@"
