"""Is the store usable? Connection limits for PostgreSQL, one-line reasons for what is
wrong with DATABASE_URL (password masked), and the write probe behind /healthz.

A store that cannot be reached, refuses, never answers, cannot write (read-only, full
disk, full SQLite file) or whose schema is not the newest becomes `StoreUnavailable`:
start-up stops with its one line, and a serving process answers /healthz with 503."""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path

from orcoursetrion.errors import StoreUnavailable
from orcoursetrion.redact import mask_query_password, redact, redact_dsn

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 4  # seconds per address tried: a host with an IPv4 and an IPv6 address stays under 10 s
STATEMENT_TIMEOUT_MS = 30_000  # no statement of ours takes more than milliseconds
LOCK_TIMEOUT_MS = 10_000
# A session left inside a transaction (its process frozen or hung mid-statement pair) is ended
# by PostgreSQL after this long, so the rows it locked (a lease, the write budget) do not stop
# every other replica; shorter than LOCK_TIMEOUT_MS, so a waiter outlives it.
IDLE_IN_TRANSACTION_MS = 5_000
TCP_USER_TIMEOUT_MS = 10_000  # sent data unacknowledged this long: the connection is dead
PROBE_TIMEOUT = 3.0  # /healthz waits this long for the store, then says it does not answer
MIN_FREE_BYTES = 1 << 20  # less free disk than this beside a SQLite file counts as full
MIN_FREE_PAGES = 8  # SQLite pages left under max_page_count

_WHITESPACE = re.compile(r"\s+")


def shown_url(url: str) -> str:
    """DATABASE_URL as it may be shown: `postgresql+psycopg://postgres:***@host/db`."""
    try:
        from sqlalchemy.engine import make_url

        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses: mask whatever credentials it has
        return redact_dsn(url)
    return mask_query_password(shown)


def postgres_limits(cparams: dict) -> None:
    """Connection parameters that bound every wait on PostgreSQL; the URL's own win."""
    cparams.setdefault("connect_timeout", CONNECT_TIMEOUT)
    cparams.setdefault("tcp_user_timeout", TCP_USER_TIMEOUT_MS)
    cparams.setdefault("keepalives_idle", 10)
    cparams.setdefault("keepalives_interval", 5)
    cparams.setdefault("keepalives_count", 2)
    ours = (
        f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS}"
        f" -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}"
    )
    cparams["options"] = f"{ours} {cparams.get('options') or ''}".strip()


def reason_of(exc: BaseException) -> str:
    """What is wrong, in a few words, from a driver's or SQLAlchemy's exception."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    first = _WHITESPACE.sub(" ", text.splitlines()[0] if text else type(orig).__name__)
    low = text.lower()
    if "connection refused" in low:
        return "connection refused (is PostgreSQL running and listening there?)"
    if "timeout expired" in low or "timed out" in low:
        return f"no answer within {CONNECT_TIMEOUT} s (connect timeout)"
    if "could not translate host name" in low or "name or service not known" in low:
        return "unknown host"
    if "password authentication failed" in low or "no password supplied" in low:
        return "authentication failed"
    if "readonly database" in low or "read-only" in low or "read only" in low:
        return "read-only: the store cannot write"
    if "database or disk is full" in low or "no space left" in low:
        return "full: the disk or the SQLite file has no room to write"
    if "unable to open database file" in low:
        return "cannot open the SQLite file (does its directory exist, and may this user write there?)"
    if "statement timeout" in low or "canceling statement" in low:
        return "the store did not answer in time (statement timeout)"
    if "terminating connection" in low or "server closed the connection" in low or "connection is lost" in low:
        return "the connection to the store was lost"
    return redact(first)[:200]


def is_store_error(exc: BaseException) -> bool:
    """The store failed (a driver or SQLAlchemy error, StoreUnavailable), not the work."""
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, StoreUnavailable | SQLAlchemyError)


@contextmanager
def unavailable_on_error(url: str) -> Iterator[None]:
    """Driver and SQLAlchemy errors (and a path that cannot be made) become StoreUnavailable."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except StoreUnavailable:
        raise
    except CommandError as exc:  # e.g. a revision this version does not know
        raise StoreUnavailable(shown_url(url), f"migrations: {redact(exc)}"[:240]) from None
    except (SQLAlchemyError, OSError) as exc:
        reason = reason_of(exc)
        if reason.startswith("cannot open the SQLite file") and _read_only_place(url):
            reason = "read-only: the SQLite file's directory or file system refuses writes"
        raise StoreUnavailable(shown_url(url), reason) from None


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (plain, or a `file:` URI); None for memory or other backends."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return None
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database)


def _read_only_place(url: str) -> bool:
    """SQLite cannot open an existing file: is it because nothing may be written there
    (WAL needs its -shm and -wal files beside the database)?"""
    path = sqlite_path(url)
    if path is None or not path.exists():
        return False
    return not os.access(path.parent, os.W_OK) or not os.access(path, os.W_OK)


def sqlite_space_problem(conn, url: str) -> str | None:
    """Why a SQLite store has no room for the next write, read cheaply (pragmas, statvfs)."""
    pages = conn.exec_driver_sql("PRAGMA page_count").scalar() or 0
    limit = conn.exec_driver_sql("PRAGMA max_page_count").scalar() or 0
    free = conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0
    if limit and limit - pages + free < MIN_FREE_PAGES:
        return f"full: the SQLite file is at its page limit ({pages} of {limit} pages)"
    path = sqlite_path(url)
    if path is not None:
        try:
            stat = os.statvfs(path.resolve().parent)
        except OSError:
            return None
        if stat.f_bavail * stat.f_frsize < MIN_FREE_BYTES:
            return f"full: {stat.f_bavail * stat.f_frsize // 1024} KiB free on the disk of the SQLite file"
    return None


class HealthProbe:
    """Runs `check` (raising StoreUnavailable) on its own thread and waits at most `timeout`:
    a store that hangs makes /healthz say so instead of hanging with it. One probe at a
    time: while a hung one is still waiting, later calls report it without piling up."""

    def __init__(self, check: Callable[[], None], timeout: float = PROBE_TIMEOUT) -> None:
        self.check, self.timeout = check, timeout
        self._lock = threading.Lock()
        self._pending: Future | None = None

    def reason(self) -> str | None:
        """None when the store answers and writes; else what is wrong."""
        with self._lock:
            if self._pending is None or self._pending.done():
                self._pending = Future()
                threading.Thread(target=self._run, args=(self._pending,), daemon=True, name="store-probe").start()
            pending = self._pending
        try:
            pending.result(self.timeout)
        except TimeoutError:
            return f"the store did not answer within {self.timeout:g} s"
        except StoreUnavailable as exc:
            return exc.reason
        return None

    def _run(self, future: Future) -> None:
        try:
            self.check()
        except StoreUnavailable as exc:
            future.set_exception(exc)
        except Exception as exc:  # anything else the driver raises is "down" too
            future.set_exception(StoreUnavailable("DATABASE_URL", reason_of(exc)))
        else:
            future.set_result(None)
