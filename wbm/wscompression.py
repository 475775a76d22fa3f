"""WebSocket compression (permessage-deflate, RFC 7692) for every Daphne that serves the WBM.

Daphne's autobahn factory supports it but Daphne does not switch it on. The live pages' frames
are repetitive text (a dashboard update shrinks to about a fifth), which matters on a cellular
or VPN link. ``enable()`` makes each of Daphne's WebSocket factories accept a client's offer with
small windows (about 16 KB of zlib state per socket); ``wbm.asgi`` calls it, so ``runwbm`` and
the web processes of scaled mode (``daphne … wbm.asgi:application``, where nothing else of ours
runs before Daphne builds its factory) both compress. nginx passes the negotiation through.
"""

from __future__ import annotations

from typing import Any


def accept(offers: list[Any]) -> Any:
    """The first permessage-deflate offer, accepted with small windows (None: no compression)."""
    from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept

    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(
                offer, window_bits=11 if offer.accept_max_window_bits else None, mem_level=4
            )
    return None


def enable() -> None:
    """Every ``daphne.ws_protocol.WebSocketFactory`` built from now on accepts compression."""
    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:  # served by something else (tests' in-process communicators)
        return
    if getattr(WebSocketFactory, "wbm_compression", False):
        return
    original = WebSocketFactory.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.setProtocolOptions(perMessageCompressionAccept=accept)

    WebSocketFactory.__init__ = __init__  # type: ignore[method-assign]
    WebSocketFactory.wbm_compression = True  # type: ignore[attr-defined]
