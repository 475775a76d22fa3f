from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Activation(models.TextChoices):
    """The manual's activation modes."""

    ACTIVATED = "activated", _("Permanently Activated")
    DEACTIVATED = "deactivated", _("Permanently Deactivated")
    ON_REQUEST = "on_request", _("On Request")


class Source(models.TextChoices):
    """Where the stored configuration came from."""

    NONE = "", _("No configuration")
    PASTE = "paste", _("Copy/paste configuration")
    IMPORT = "import", _("Imported configuration")
