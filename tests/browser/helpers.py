"""What the browser tests share: signing in through the real login form."""

from __future__ import annotations

from typing import Any


def login(page: Any, live_server: Any, username: str, password: str = "Test-pass-2021") -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
