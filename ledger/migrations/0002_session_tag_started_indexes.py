"""Indexes for the Sessions page's tag filter: (id_tag, started_at, id) and (evcc_id, started_at, id)
of ``chargepoints.ChargingSession``.

The filter matches a set of tags (the text as typed, normalised, and the tags of whitelist names
containing it) in either column, newest first. With the one-column indexes of chargepoints 0008
the database found the sessions by index but read every one of them from the table to sort it
(~3,000 for "Driver 17" in benchmarks/sessions.py, ~8 ms of 100,000 on SQLite); these indexes
carry the order, so the page's ids come from the indexes alone.

Plain SQL (the same on SQLite and PostgreSQL) in the app whose query needs them: the model
belongs to ``chargepoints``, whose migration state is left unchanged (moving them into
``ChargingSession.Meta.indexes`` later: ``SeparateDatabaseAndState`` with these names).
"""

from django.db import migrations

INDEXES = {
    "session_tag_started_idx": "id_tag",
    "session_evcc_started_idx": "evcc_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
        ("chargepoints", "0008_session_evcc_id_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON chargepoints_chargingsession ({column}, started_at, id)",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, column in INDEXES.items()
    ]
