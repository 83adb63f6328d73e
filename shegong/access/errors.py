"""The two refusals. Both subclass Django's own, so pages get Django's 403/404 handling (our Chinese
templates 403.html and 404.html with the way back) and the API maps them once (shegong/api/api.py)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

NOT_VISIBLE = "不存在或不在您的管辖范围内"
FORBIDDEN = "您可以查看但无权进行这项操作"


class Forbidden(PermissionDenied):
    """Visible, but the action is not allowed (HTTP 403)."""

    def __init__(self, message: str = FORBIDDEN) -> None:
        super().__init__(message)
        self.message = message


class NotVisible(Http404):
    """Not there, or outside the actor's scope — the two are not told apart (HTTP 404)."""

    def __init__(self, message: str = NOT_VISIBLE) -> None:
        super().__init__(message)
        self.message = message
