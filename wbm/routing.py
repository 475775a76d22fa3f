from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

from wbm.registry import websocket_urlpatterns as registered

# every app's WebSocket routes (AppConfig.wbm_websocket_urls)
websocket_urlpatterns = registered()


class SameOriginValidator:
    """A WebSocket must come from a page of this same host, and that host must be one the WBM
    answers to (``ALLOWED_HOSTS``, as for pages): the Origin must match the Host the browser
    connected to, and the Host must be allowed. The second check is what stops DNS rebinding,
    where a foreign page's Origin and Host are both the attacker's name."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin1")
        host = headers.get(b"host", b"").decode("latin1")
        if (
            not origin
            or not host
            or urlparse(origin).netloc.lower() != host.lower()
            or not validate_host(split_domain_port(host)[0], settings.ALLOWED_HOSTS)
        ):
            denier = WebsocketDenier()
            return await denier(scope, receive, send)
        return await self.app(scope, receive, send)
