from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.security.websocket import WebsocketDenier

from wbm.registry import websocket_urlpatterns as registered

# every app's WebSocket routes (AppConfig.wbm_websocket_urls)
websocket_urlpatterns = registered()


class SameOriginValidator:
    """A WebSocket must come from a page of this same host: the controller is reached under
    addresses nobody can list in advance (192.168.5.1, DHCP, ev3000.local), so instead of an
    allow-list the Origin must match the Host the browser connected to."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin1")
        host = headers.get(b"host", b"").decode("latin1")
        if not origin or not host or urlparse(origin).netloc.lower() != host.lower():
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.app(scope, receive, send)
