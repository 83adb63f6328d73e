"""The roster's background tasks. The task is defined in shegong.roster.services, next to the code
that enqueues it (so that services and tasks do not import each other); this name stays importable for
tasks queued under it."""

from shegong.roster.services import run_import_job

__all__ = ["run_import_job"]
