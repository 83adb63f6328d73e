"""The one error type that services raise for a rule a user broke.

Views show `message` next to `field`; the API answers it as JSON; imports attach it to a row.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    def __init__(self, message: str, *, field: str | None = None, clause: str | None = None,
                 errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.clause = clause
        self.errors = errors or ({field: [message]} if field else {"__all__": [message]})

    @classmethod
    def from_validation_error(cls, exc: ValidationError, labels: dict[str, str] | None = None) -> ApplicationError:
        """Turn Django's ValidationError (from full_clean) into one ApplicationError naming the fields."""
        labels = labels or {}
        if hasattr(exc, "error_dict"):
            errors = {f: [str(m) for e in errs for m in e.messages] for f, errs in exc.error_dict.items()}
        else:
            errors = {"__all__": list(exc.messages)}
        parts = []
        first_field = None
        for field, msgs in errors.items():
            if field != "__all__" and first_field is None:
                first_field = field
            label = labels.get(field, field)
            parts.append(("" if field == "__all__" else f"{label}:") + ";".join(msgs))
        return cls(";".join(parts), field=first_field, errors=errors)


class ConflictError(ApplicationError):
    """Someone else changed the row since the user read it (optimistic concurrency, see
    shegong/common/versioning.py). `current` is the row as it is now; `expected` the version the user
    worked from (None when unknown), `actual` the version now. The API answers 412, a web form shows
    the other person's values next to the user's."""

    def __init__(self, message: str = "", *, current: object = None, expected: int | None = None,
                 actual: int | None = None, field: str | None = None) -> None:
        if not message:
            message = "已被他人修改:您看到的是旧的内容"
            if expected is not None and actual is not None:
                message += f"(第 {expected} 版,现在是第 {actual} 版)"
            message += ";请核对他人的修改后再保存"
        super().__init__(message, field=field)
        self.current = current
        self.expected = expected
        self.actual = actual
