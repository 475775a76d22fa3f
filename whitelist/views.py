from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from wbm.access import RoleRequiredMixin
from wbm.roles import Perm
from wbm.runtime.bus import read_snapshot
from whitelist.models import MAX_ENTRIES
from whitelist.selectors import entry_list


class EntryListView(RoleRequiredMixin, View):
    """The local whitelist and the recently scanned RFIDs."""

    required = Perm.WHITELIST_VIEW

    def get(self, request: HttpRequest) -> HttpResponse:
        snapshot = read_snapshot()
        return render(
            request,
            "whitelist/list.html",
            {
                "entries": entry_list(),
                "max_entries": MAX_ENTRIES,
                "recent": snapshot.recent_rfids if snapshot else (),
            },
        )
