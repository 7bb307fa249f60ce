"""The one family of errors a person can act on; anything else that escapes is a bug.

Every user-facing error derives from `ClauseCiteError` and says what was wrong and how to fix it.
The faces (cli.py, app.py) show such an error as one line; any other exception is logged with its
traceback and shown as a short internal error. The concrete errors also derive from the built-in
type they replaced (ValueError, RuntimeError), so code that caught those keeps working.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class ClauseCiteError(Exception):
    """An error the person running ClauseCite can fix: bad input, data or configuration."""


class InputError(ClauseCiteError, ValueError):
    """A value a person gave (a name, a date, a file, a form field) that cannot be used as given."""


def user_message(exc: BaseException) -> str | None:
    """The one line a person reads for an error they can fix, or None when the error is a bug.

    A file the system refuses (no such file, no permission, disk full) is the person's to fix too.
    """
    if isinstance(exc, ClauseCiteError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return None


def internal_message(exc: BaseException, where: str = "the traceback is in the log") -> str:
    """The short line shown for a bug: never worded as if the person had made a mistake."""
    return f"internal error ({type(exc).__name__}): this is a bug in ClauseCite, not a mistake of yours; {where}"


def at_the_edge(
    shown_as: Callable[[str], Exception], log: logging.Logger, where: str, passes: tuple[type[BaseException], ...] = ()
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A face's decorator: an error the person can fix is raised again as `shown_as(its message)`; any
    other exception is a bug, logged with its traceback and shown as an internal error. Exceptions of
    the `passes` types (the face's own) go through untouched."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except passes:
                raise
            except Exception as exc:
                message = user_message(exc)
                if message is None:
                    log.exception("internal error in %s", fn.__name__)
                    message = internal_message(exc, where)
                raise shown_as(message) from exc

        return wrapper

    return decorate
