"""ChangeAvailability, persisted: a ``ConnectorAvailability`` row while a connector (0: the whole
park) is Inoperative; ``scheduled`` while it waits for a running transaction to end."""

from __future__ import annotations


def set_inoperative(connector_id: int, *, scheduled: bool) -> None:
    from ocppcfg.models import ConnectorAvailability

    ConnectorAvailability.objects.update_or_create(connector_id=connector_id, defaults={"scheduled": scheduled})


def set_operative(connector_id: int) -> None:
    """Operative again; connector 0 makes every connector operative."""
    from ocppcfg.models import ConnectorAvailability

    rows = ConnectorAvailability.objects.all()
    if connector_id != 0:
        rows = rows.filter(connector_id=connector_id)
    rows.delete()


def load() -> dict[int, bool]:
    from ocppcfg.models import ConnectorAvailability

    return {row.connector_id: row.scheduled for row in ConnectorAvailability.objects.all()}


def store_backend_url(url: str) -> None:
    """A NewBackendURL that worked becomes the backend URL."""
    from ocppcfg.models import OcppSettings

    settings = OcppSettings.load()
    settings.backend_url = url
    settings.save()
