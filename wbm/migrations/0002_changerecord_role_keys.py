"""Audit records stored the role's translated label; store its stable key instead."""

from __future__ import annotations

from django.db import migrations

# English and German labels of the four roles (wbm/roles.py, locale/de/LC_MESSAGES/django.po),
# frozen here: a migration must not follow later changes of the labels.
LABEL_TO_KEY = {
    "Guest": "guest",
    "Gast": "guest",
    "User": "user",
    "Benutzer": "user",
    "Operator": "operator",
    "Betreiber": "operator",
    "Manufacturer": "manufacturer",
    "Hersteller": "manufacturer",
}


def labels_to_keys(apps, schema_editor):
    ChangeRecord = apps.get_model("wbm", "ChangeRecord")
    for label, key in LABEL_TO_KEY.items():
        ChangeRecord.objects.filter(role=label).update(role=key)


class Migration(migrations.Migration):
    dependencies = [("wbm", "0001_initial")]

    # No way back: a key does not say which language the label was recorded in.
    operations = [migrations.RunPython(labels_to_keys, migrations.RunPython.noop)]
