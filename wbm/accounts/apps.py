from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "wbm.accounts"
    label = "wbm_accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from wbm.accounts.services import api_tokens_end_with_logout

        # every logout (the page, a session that another view ends) ends the API login's tokens
        user_logged_out.connect(api_tokens_end_with_logout, dispatch_uid="wbm.accounts.api_tokens_logout")
