"""Serializer fields of the API's input serializers."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """A JSON boolean and nothing else: DRF's ``BooleanField`` also takes ``0``, ``1``, ``"no"``,
    ``"off"`` …, so ``"dry_run": "no"`` would run a real import. Output serializers may keep
    ``BooleanField``; every input boolean of the API uses this one."""

    default_error_messages = {"invalid": _("Must be true or false (a JSON boolean).")}

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid")
        raise AssertionError  # fail() raises
