"""The Sessions page with 100,000 charging sessions: server time p50/p95 (budget p95 ≤ 50 ms).

A temporary state directory with its own SQLite database (and, where PostgreSQL is installed, a
throw-away cluster: ``tests/scaledstack.postgres_cluster()``, as scaled mode uses), the demo park grown to
120 charge points, 100,000 closed sessions over three years with 300 RFID tags (200 of them on the
whitelist) and EVCC IDs, a few running ones with samples. Each figure is the time Django takes
for the request through every middleware (the test client in this process; no network).

    .venv/bin/python benchmarks/sessions.py [--sessions N] [--requests N] [--no-postgres | --postgres]

``--no-postgres``: SQLite only; ``--postgres``: PostgreSQL only. ``BENCH_PROFILE=/sessions/?…``
prints a cProfile of that page and its queries (``BENCH_SORT``: the sort key, cumulative).

Prints figures only; nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_P95_MS = 50.0


def _setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wbm.settings")
    import django

    django.setup()


def fill(sessions: int) -> dict[str, str]:
    """Fill the (empty) database; returns the pages to time by label."""
    from datetime import UTC, datetime, timedelta

    from django.core.management import call_command
    from django.db import connection

    from chargepoints.demo import load_demo_park
    from chargepoints.models import ChargePoint, ChargingSession
    from ledger.models import SessionSample
    from wbm.accounts.models import Profile
    from wbm.roles import Role
    from whitelist.models import WhitelistEntry

    call_command("migrate", verbosity=0)
    load_demo_park(extra_chargepoints=116)
    cps = list(ChargePoint.objects.filter(config__isnull=False).values_list("pk", flat=True))
    rng = random.Random(12)
    tags = [f"{rng.getrandbits(56):014X}" for _ in range(300)]
    WhitelistEntry.objects.bulk_create(
        [
            WhitelistEntry(tag=t, name=f"Driver {i}", expires_at=datetime(2035, 1, 1, tzinfo=UTC))
            for i, t in enumerate(tags[:200])
        ],
        ignore_conflicts=True,
    )
    start = datetime(2023, 1, 1, tzinfo=UTC)
    span_s = 3 * 365 * 86400
    t0 = time.perf_counter()
    batch: list[ChargingSession] = []
    for n in range(sessions):
        started = start + timedelta(seconds=span_s * n / sessions)
        minutes = rng.randint(10, 600)
        meter = rng.randint(0, 5_000_000)
        evcc = rng.random() < 0.2
        batch.append(
            ChargingSession(
                chargepoint_id=cps[n % len(cps)],
                started_at=started,
                ended_at=started + timedelta(minutes=minutes),
                meter_start_wh=meter,
                meter_stop_wh=meter + rng.randint(0, 60_000),
                id_tag="" if evcc else rng.choice(tags),
                evcc_id=f"{rng.getrandbits(48):012X}" if evcc else "",
                released_by=rng.choice(["user", "whitelist", "ocpp", "modbus", "user,whitelist"]),
                stop_reason=rng.choice(["EVDisconnected", "Local", "Remote", "PowerLoss"]),
            )
        )
        if len(batch) == 5000:
            ChargingSession.objects.bulk_create(batch)
            batch = []
    ChargingSession.objects.bulk_create(batch)
    running = [
        ChargingSession.objects.create(
            chargepoint_id=cp, started_at=datetime.now(tz=UTC) - timedelta(hours=2), meter_start_wh=0
        )
        for cp in cps[:4]
    ]
    SessionSample.objects.bulk_create(
        [
            SessionSample(session=s, at=s.started_at + timedelta(minutes=m), power_w=11_000.0, energy_wh=183.0 * m)
            for s in running
            for m in range(120)
        ]
    )
    with connection.cursor() as cursor:  # fresh statistics, as a database in service has (autovacuum)
        cursor.execute("ANALYZE")
    from django.contrib.auth.models import User

    user = User.objects.create_user("bench", password="bench-pass-1")
    Profile.objects.update_or_create(user=user, defaults={"role": Role.USER, "must_change_password": False})
    print(f"  {connection.vendor}: {sessions:,} sessions written in {time.perf_counter() - t0:.1f} s")
    middle = ChargingSession.objects.order_by("-started_at").values_list("pk", flat=True)[sessions // 2]
    return {
        "page 1, no filter": "/sessions/",
        "charge point": f"/sessions/?chargepoint={cps[7]}",
        "tag": f"/sessions/?tag={tags[3]}",
        "whitelist name": "/sessions/?tag=Driver%2017",
        "period (a month)": "/sessions/?since=2024-03-01&until=2024-03-31",
        "deep page (50,000 back)": f"/sessions/?older={middle}",
        "session detail (120 samples)": f"/sessions/{running[0].pk}/",
        "API list": "/api/v1/sessions/",
    }


def _child(sessions: int, requests: int) -> None:
    """Runs with the environment naming the database: fill it, then time the pages."""
    _setup()
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    cases = fill(sessions)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="bench"))
    if os.environ.get("BENCH_PROFILE"):  # where the time of one page goes
        import cProfile
        import pstats

        client.get("/sessions/")
        profile = cProfile.Profile()
        profile.runcall(client.get, os.environ["BENCH_PROFILE"])
        pstats.Stats(profile).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(30)
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            client.get(os.environ["BENCH_PROFILE"])
        for query in queries.captured_queries:
            print(f"    {float(query['time']) * 1000:6.1f} ms  {query['sql'][:150]}")
    for label, url in cases.items():
        assert client.get(url).status_code == 200, url  # warm up (and the totals' cache)
        times = []
        for _ in range(requests):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        times.sort()
        p50, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
        mark = "ok" if p95 <= BUDGET_P95_MS else "OVER BUDGET"
        print(f"    {label:32s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  ({mark})")
    # the totals are recomputed when a session is added or ends: the first view after that
    times = []
    for _ in range(max(5, requests // 10)):
        cache.clear()
        t = time.perf_counter()
        client.get("/sessions/")
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    print(f"    {'page 1, totals recomputed':32s} p50 {statistics.median(times):6.1f} ms  max {times[-1]:6.1f} ms")
    t = time.perf_counter()
    export = client.get("/sessions/export.csv")
    print(f"    CSV export of all sessions: {(time.perf_counter() - t):.2f} s, {len(export.content) / 1e6:.1f} MB")


def _run(env: dict[str, str], sessions: int, requests: int) -> None:
    subprocess.run(
        [sys.executable, __file__, "--child", "--sessions", str(sessions), "--requests", str(requests)],
        env={k: v for k, v in {**os.environ, **env}.items() if v or k not in ("DATABASE_URL", "REDIS_URL")},
        cwd=ROOT,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--no-postgres", action="store_true", help="SQLite only")
    only.add_argument("--postgres", action="store_true", help="PostgreSQL only")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.sessions, args.requests)
        return
    print(
        f"Sessions page, {args.sessions:,} sessions, {args.requests} requests each (budget p95 ≤ {BUDGET_P95_MS:.0f} ms)"
    )
    base = {
        "DJANGO_SETTINGS_MODULE": "wbm.settings",
        "REDIS_URL": "",
        # the source tree's static files (no collectstatic in a temporary state directory)
        "WBM_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
    }
    if not args.postgres:
        with tempfile.TemporaryDirectory(prefix="wbm-bench-sessions-") as tmp:
            state = {"WBM_STATE_DIR": str(Path(tmp) / "sqlite"), "DATABASE_URL": ""}
            _run({**base, **state}, args.sessions, args.requests)
    if args.no_postgres:
        return
    sys.path.insert(0, str(ROOT))
    try:
        from tests.scaledstack import postgres_cluster

        with postgres_cluster() as pg, tempfile.TemporaryDirectory(prefix="wbm-bench-sessions-") as tmp:
            _run({**base, "WBM_STATE_DIR": tmp, "DATABASE_URL": pg.url}, args.sessions, args.requests)
    except (AssertionError, ImportError, OSError, RuntimeError) as exc:
        print(f"  postgresql: skipped ({exc})")


if __name__ == "__main__":
    main()
