from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import migrations, models

# The manual's default accounts. Each must change its password at first login.
DEFAULT_ACCOUNTS = [("user", 1), ("operator", 2), ("manufacturer", 3)]


def create_default_accounts(apps, schema_editor):
    User = apps.get_model("auth", "User")
    Profile = apps.get_model("wbm_accounts", "Profile")
    for username, role in DEFAULT_ACCOUNTS:
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.password = make_password(username)
            user.save()
        Profile.objects.get_or_create(user=user, defaults={"role": role, "must_change_password": True})


class Migration(migrations.Migration):
    initial = True
    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]
    operations = [
        migrations.CreateModel(
            name="Profile",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("role", models.PositiveSmallIntegerField(choices=[(0, "Guest"), (1, "User"), (2, "Operator"), (3, "Manufacturer")], default=1, verbose_name="role")),
                ("must_change_password", models.BooleanField(default=True, verbose_name="must change password")),
                ("language", models.CharField(blank=True, max_length=8, verbose_name="language")),
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="profile", to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.RunPython(create_default_accounts, migrations.RunPython.noop),
    ]
