"""{% side_nav %}: the side menu built from the apps' declarations (shegong.web.navigation)."""

from __future__ import annotations

from typing import Any

from django import template

from shegong.web.navigation import navigation

register = template.Library()


@register.inclusion_tag("shegong/_nav.html", takes_context=True)
def side_nav(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return {"links": []}  # the sign-in page and refusals to anonymous visitors: no menu
    return {"links": navigation(request)}
