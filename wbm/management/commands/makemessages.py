"""``makemessages`` that also extracts the project's gettext aliases.

xgettext only knows ``_``, ``gettext`` & co. by name; a module that imports
``gettext_lazy as _lazy`` would otherwise have its strings silently left out of the catalogue.
tests/test_i18n.py checks that every alias used in the source is listed here.
"""

from __future__ import annotations

from django.core.management.commands import makemessages

# alias -> xgettext keyword spec (argument positions as for the function it stands for)
EXTRA_KEYWORDS: dict[str, str] = {
    "_lazy": "_lazy",  # gettext_lazy
}


class Command(makemessages.Command):
    xgettext_options = [
        *makemessages.Command.xgettext_options,
        *(f"--keyword={spec}" for spec in EXTRA_KEYWORDS.values()),
    ]
