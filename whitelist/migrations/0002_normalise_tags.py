import re

import django.utils.timezone
from django.db import migrations, models


def normalise_tags(apps, schema_editor):
    """Store every tag in the one compared form (upper case, no separators). Two entries that
    become the same tag are one card: the first (lowest id) is kept."""
    Entry = apps.get_model("whitelist", "WhitelistEntry")
    seen = set()
    for entry in Entry.objects.order_by("pk"):
        tag = re.sub(r"[\s:\-.]", "", entry.tag or "").upper()
        if (entry.type, tag) in seen:
            entry.delete()
            continue
        seen.add((entry.type, tag))
        if tag != entry.tag:
            entry.tag = tag
            entry.save(update_fields=["tag"])


class Migration(migrations.Migration):

    dependencies = [
        ("whitelist", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="whitelistentry",
            name="tag",
            field=models.CharField(max_length=40, verbose_name="RFID tag / EVCC ID"),
        ),
        migrations.AddField(
            model_name="whitelistentry",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(normalise_tags, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="whitelistentry",
            constraint=models.UniqueConstraint(fields=("type", "tag"), name="whitelist_unique_type_tag"),
        ),
        migrations.CreateModel(
            name="WhitelistRevision",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("revision", models.PositiveIntegerField(default=0)),
            ],
        ),
    ]
