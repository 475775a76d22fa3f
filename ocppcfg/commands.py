"""Commands the OCPP agent handles."""

from __future__ import annotations

from dataclasses import dataclass

from wbm.runtime.commands import Command


@dataclass(frozen=True, slots=True, kw_only=True)
class OcppReload(Command):
    """Re-read the OCPP settings and configuration keys (after a save on a page, the API or an
    import). A changed backend URL, credential or certificate reconnects."""

    name = "ocpp.reload"
