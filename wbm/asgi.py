"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wbm.settings")

from django.core.asgi import get_asgi_application

django_asgi_app = get_asgi_application()

from wbm.startup import require_database  # noqa: E402

# Daphne imports this module before it listens: a database it cannot reach ends it here
require_database("web process")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from wbm import wscompression  # noqa: E402
from wbm.middleware import RequireContentLengthASGI, ServerTimingASGI  # noqa: E402
from wbm.routing import SameOriginValidator, websocket_urlpatterns  # noqa: E402

wscompression.enable()  # before Daphne builds its WebSocket factory

application = ProtocolTypeRouter(
    {
        # a chunked write is refused (411) rather than handed to Django with an empty body
        "http": RequireContentLengthASGI(
            ServerTimingASGI(django_asgi_app) if settings.WBM_SERVER_TIMING else django_asgi_app
        ),
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
