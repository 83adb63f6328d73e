"""The schemathesis run of /api/v1 (issue 9.8): slow, so it runs only when asked for with `-m schemathesis`
(`.ci/run` does, on SQLite and on PostgreSQL); a plain `pytest` leaves it out."""

from __future__ import annotations

MARKER = "schemathesis: property-based run of every /api/v1 operation (run with `pytest -m schemathesis`)"


def pytest_configure(config):
    config.addinivalue_line("markers", MARKER)


def pytest_collection_modifyitems(config, items):
    """Until pyproject's addopts leaves the marker out by itself, leave it out here unless `-m` names it."""
    if "schemathesis" in (config.option.markexpr or ""):
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("schemathesis") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
