"""Zendesk, one more listener on the request lifecycle: every confirmed request gets one
ticket that follows it (comments at each step, the repo URLs at the end, solved when done).

- `ZendeskClient`: a thin client on zenpy. zenpy's own transport policy resends PUTs on
  timeouts and lost answers (duplicate comments) and sleeps out a 429 inside the call; ours
  resends only GETs and hands a 429's `Retry-After` back to the outbox, so the retry policy is
  one deliberate choice here, like the GitHub pacer.
- The listener turns lifecycle events into rows of the store's outbox (`store/outbox.py`): it
  never talks to Zendesk, so GitHub work and Slack never wait for it.
- `ZendeskSync`'s worker drains the outbox with backoff; every operation is idempotent at
  Zendesk: a ticket is looked up by `external_id` (`orc-request-{id}`) before one is created
  (with an `Idempotency-Key`, for a create that lands after its retry), and every comment
  carries a marker, looked for before a retry sends it again.

Configured only when ZENDESK_SUBDOMAIN (or ZENDESK_URL), ZENDESK_EMAIL and ZENDESK_API_TOKEN
are set; otherwise `attach` returns None and nothing about Zendesk appears anywhere.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import RecordNotFoundException

from orcoursetrion import ticket_text
from orcoursetrion.config import Settings
from orcoursetrion.events import Event
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.redact import redact
from orcoursetrion.store import RequestView, RunView, Store
from orcoursetrion.store.outbox import Outbox, OutboxRow, request_by_ticket
from orcoursetrion.ticket_text import APPROVE_TAG, REJECT_TAG, Names, external_id, zendesk_actor
from orcoursetrion.times import parse_iso

if TYPE_CHECKING:
    from orcoursetrion.workflow import Workflow

log = logging.getLogger(__name__)

__all__ = [
    "APPROVE_TAG",
    "MARKER",
    "REJECT_TAG",
    "ZendeskClient",
    "ZendeskSync",
    "attach",
    "configured",
    "external_id",
    "find_request",
    "ticket_link",
    "ticket_url",
    "zendesk_actor",
]

MARKER = "(orcoursetrion request #"  # how every comment the bot adds ends
EXTERNAL_ID = re.compile(r"^orc-request-([0-9]{1,12})$")
RETRY_AFTER = "X-Orc-Retry-After"  # where the adapter moves a 429's Retry-After, out of zenpy's sight
# Events that say something in the ticket; the first of them opens it (a CLI request starts
# without confirmation, so "started" may be the first).
TICKETED = ("pending_approval", "scheduled", "approved", "started", "resumed", "stopping", "failed", "completed")
CLOSING = ("rejected", "cancelled")
ADOPT_SKEW = timedelta(hours=1)  # clock difference tolerated between Zendesk and the store


# -- configuration and links -------------------------------------------------------------------


def configured(settings: Settings) -> bool:
    return bool(
        settings.zendesk_email and settings.zendesk_api_token and (settings.zendesk_subdomain or settings.zendesk_url)
    )


def _subdomain(settings: Settings) -> str:
    if settings.zendesk_subdomain:
        return settings.zendesk_subdomain
    host = urlsplit(settings.zendesk_url or "").hostname or "zendesk"
    return re.sub(r"[^A-Za-z0-9-]", "-", host.split(".")[0]) or "zendesk"


def _public_base(settings: Settings) -> str:
    """The base URL zenpy builds: https://{subdomain}.zendesk.com."""
    return f"https://{_subdomain(settings)}.zendesk.com"


def ticket_url(settings: Settings, ticket_id: int | None) -> str | None:
    """The agent's link to a ticket (based on ZENDESK_URL when set); None without Zendesk."""
    if ticket_id is None or not configured(settings):
        return None
    base = (settings.zendesk_url or _public_base(settings)).rstrip("/")
    return f"{base}/agent/tickets/{ticket_id}"


def ticket_link(settings: Settings, req: RequestView) -> str | None:
    return ticket_url(settings, req.ticket_id)


def find_request(store: Store, ext_id: str | None, ticket_id: int | None) -> RequestView | None:
    """The request a Zendesk ticket speaks for: by external_id `orc-request-{id}`, else by
    the stored ticket id. A request whose stored ticket is another one is not it (a ticket
    of an earlier database that happens to carry the same request number)."""
    match = EXTERNAL_ID.fullmatch((ext_id or "").strip())
    if match:
        req = store.find(int(match.group(1)))
        if req is not None and (req.ticket_id is None or ticket_id is None or req.ticket_id == ticket_id):
            return req
        if req is not None:
            log.warning("ticket %s names request %s, whose ticket is %s: not it", ticket_id, req.id, req.ticket_id)
    if ticket_id is not None:
        found = request_by_ticket(store, ticket_id)
        return store.find(found) if found is not None else None
    return None


# -- the client ----------------------------------------------------------------------------------


class _Transport(HTTPAdapter):
    """Our transport policy under zenpy: GETs alone are resent (503, lost answers, timeouts;
    never a PUT or POST, which Zendesk may already have applied); a 429's Retry-After is moved
    out of zenpy's sight so the call fails at once and the outbox waits instead; with
    ZENDESK_URL, requests for https://{subdomain}.zendesk.com go to that base URL."""

    def __init__(self, public_base: str, target_base: str | None) -> None:
        self.public_base = public_base.rstrip("/")
        self.target_base = target_base.rstrip("/") if target_base else None
        super().__init__(
            max_retries=Retry(
                total=2,
                connect=2,
                read=1,
                status=1,
                allowed_methods=frozenset({"GET", "HEAD"}),
                status_forcelist=(503,),
                backoff_factor=0.2,
                respect_retry_after_header=False,
                raise_on_status=False,
            )
        )

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        original = request.url or ""
        sent = request
        if self.target_base and original.startswith(self.public_base):
            sent = request.copy()
            sent.url = self.target_base + original[len(self.public_base) :]
            public = urlsplit(self.public_base)
            sent.headers["X-Forwarded-Host"] = public.netloc
            sent.headers["X-Forwarded-Proto"] = public.scheme
        response = super().send(sent, *args, **kwargs)
        response.request, response.url = request, original
        if response.status_code == 429 and "Retry-After" in response.headers:
            response.headers[RETRY_AFTER] = response.headers.pop("Retry-After")
        return response


def make_session(settings: Settings) -> requests.Session:
    session = requests.Session()
    adapter = _Transport(_public_base(settings), settings.zendesk_url)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class ZendeskClient:
    """Tickets by external id, create, comment (+ status), and a comment marker check."""

    def __init__(self, settings: Settings, timeout: float = 15.0, session: requests.Session | None = None) -> None:
        self.session = session or make_session(settings)
        self._lock = threading.Lock()
        self.api = Zenpy(
            subdomain=_subdomain(settings),
            email=settings.zendesk_email,
            token=settings.zendesk_api_token,
            session=self.session,
            timeout=timeout,
            disable_cache=True,  # every read is a read: zenpy would answer tickets(id=n) from memory
        )

    def find(self, ext_id: str) -> list[tuple[int, datetime | None]]:
        """Every ticket carrying this external id (Zendesk does not keep them unique), oldest
        first; the list endpoint, not search, whose index lags behind writes."""
        found = [(t.id, parse_iso(getattr(t, "created_at", None))) for t in self.api.tickets(external_id=ext_id)]
        return sorted(found)

    def create(self, fields: dict, key: str) -> int:
        """Create the ticket; `key` is its Idempotency-Key: a retry of a create that Zendesk
        applied late (a hung answer) gets the first answer back instead of a second ticket."""
        first = fields["comment"]
        ticket = Ticket(
            subject=fields["subject"],
            comment=Comment(body=first["body"], public=first.get("public", True)),
            tags=fields["tags"],
            external_id=fields["external_id"],
        )
        if fields.get("requester"):
            ticket.requester = User(**fields["requester"])
        if fields.get("due_at"):
            ticket.type, ticket.due_at = "task", fields["due_at"]
        with self._lock:  # zenpy takes no per-call headers: set it on the session for this call
            self.session.headers["Idempotency-Key"] = key
            try:
                return int(self.api.tickets.create(ticket).ticket.id)
            finally:
                del self.session.headers["Idempotency-Key"]

    def comment(self, ticket_id: int, body: str, public: bool, status: str | None = None) -> None:
        update = Ticket(id=ticket_id, comment=Comment(body=body, public=public))
        if status:
            update.status = status
        self.api.tickets.update(update)

    def has_comment_with(self, ticket_id: int, marker: str) -> bool:
        return any(marker in (c.body or "") for c in self.api.tickets.comments(ticket_id))


# -- failures ------------------------------------------------------------------------------------


class _TicketGone(Exception):
    """The stored ticket answers 404 (an agent deleted it): the next try opens a new one."""


class _Failure:
    """How to treat an error: transient ones (Zendesk down, slow, rate-limited, auth being
    fixed) retry forever with backoff; others a few times, then the row is given up."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.status: int | None = None
        self.retry_after: float | None = None
        self.transient = True
        self.closed = False
        response = getattr(exc, "response", None)
        if isinstance(response, requests.Response):
            self.status = response.status_code
            header = response.headers.get(RETRY_AFTER) or response.headers.get("Retry-After")
            try:
                self.retry_after = float(header) if header else None
            except ValueError:
                self.retry_after = None
            text = response.text[:2000] if response.content else ""
            self.closed = self.status == 422 and "ClosedTicket" in text
            self.transient = self.status in (401, 403, 408, 409, 429) or self.status >= 500
        elif not isinstance(exc, requests.RequestException):
            self.transient = False  # a zenpy complaint, or a bug here

    def __str__(self) -> str:
        if self.status == 429:
            return f"Zendesk rate limit (429), retry after {self.retry_after or '?'}s"
        if self.status is not None:
            return redact(f"Zendesk answered {self.status}: {str(self.exc)[:300]}")
        return redact(f"{type(self.exc).__name__}: {str(self.exc)[:300]}")


# -- listener and worker ----------------------------------------------------------------------


class ZendeskSync:
    """The lifecycle listener (events -> outbox rows) and the worker that drains the outbox."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        workflow: Workflow | None = None,
        client: ZendeskClient | None = None,
        names: Names | None = None,
        owner: str | None = None,
        timeout: float = 15.0,
        poll: float = 2.0,
        backoff: tuple[float, float] = (1.0, 30.0),
        max_attempts: int = 6,
    ) -> None:
        self.settings, self.store, self.workflow = settings, store, workflow
        self.client = client or ZendeskClient(settings, timeout=timeout)
        self.names = names
        self.owner = owner or (workflow.owner if workflow is not None else f"zendesk/{random.getrandbits(32):08x}")
        self.outbox = Outbox(store)
        self.poll, self.backoff, self.max_attempts = poll, backoff, max_attempts
        self.claim_seconds = max(60.0, 8 * timeout)  # an operation is a few calls, each bounded by timeout
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.last_ok_at: datetime | None = None
        self._failures = 0
        self._pause_until = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._progress = threading.Condition()
        self._thread: threading.Thread | None = None

    # -- the listener --------------------------------------------------------------------------
    def __call__(self, event: Event) -> None:
        """Queue what this event says in the ticket (never a call to Zendesk here)."""
        kind, req = event.kind, event.request
        if kind not in TICKETED and kind not in CLOSING:
            return
        known = self.outbox.known(req.id)
        if kind in CLOSING and not known:
            return  # a draft cancelled (or replaced) before it was confirmed: no ticket
        if not known:
            self.outbox.add(req.id, "open")
        if kind == "completed":
            fresh = self.store.get(req.id)
            runs = self._runs(ticket_text.runs_touched(fresh))
            items = self.store.items(req.id) if fresh.type == RequestType.ROLLOVER else None
            notes = ticket_text.completed_notes(fresh, self.settings, runs, items)
        else:
            webhook = bool(self.settings.zendesk_webhook_secret)
            notes = ticket_text.event_notes(kind, req, event.actor, event.text, event.data, self.names, webhook)
        for note in notes:
            self.outbox.add(req.id, "comment", note.as_payload())
        self._wake.set()

    def _runs(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], RunView]:
        """The stored run of each (course, term) known, a term's at once (a rollover's hundreds)."""
        by_term: dict[str, list[str]] = {}
        for course, term in pairs:
            by_term.setdefault(term.lower(), []).append(course)
        found = {
            (run.course.lower(), run.term.lower()): run
            for term, courses in by_term.items()
            for run in self.store.runs_in_term(term, courses)
        }
        return {pair: run for pair in pairs if (run := found.get((pair[0].lower(), pair[1].lower())))}

    # -- the worker ----------------------------------------------------------------------------
    def start(self) -> ZendeskSync:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, daemon=True, name="orc-zendesk")
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():
                try:
                    self.outbox.release(self.owner)
                except Exception:
                    log.warning("could not release Zendesk outbox claims (they expire by themselves)", exc_info=True)
            self._thread = None

    def kick(self) -> None:
        """Look at the outbox now (rows queued by another process, or in a test)."""
        self._wake.set()

    def drain(self, request_id: int | None = None, timeout: float = 10.0, give_up_on_error: bool = False) -> bool:
        """Wait until the events so far are queued and the outbox has nothing pending (for one
        request, or at all). With `give_up_on_error`, stop once Zendesk fails (rows stay queued)."""
        deadline = time.monotonic() + timeout
        if self.workflow is not None:
            self.workflow.bus.flush(timeout)
        errors = self._failures
        while self.outbox.pending(request_id):
            left = deadline - time.monotonic()
            if left <= 0 or (give_up_on_error and self._failures > errors):
                return False
            self._wake.set()
            with self._progress:
                self._progress.wait(min(left, 0.2))
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            paused = self._pause_until - time.monotonic()
            if paused > 0:
                self._stop.wait(paused)
                continue
            try:
                item = self.outbox.claim(self.owner, self.claim_seconds)
            except Exception:
                log.warning("Zendesk outbox: cannot read the store", exc_info=True)
                self._stop.wait(self.poll)
                continue
            if item is None:
                self._wake.wait(self.poll)
                self._wake.clear()
                continue
            self._work(item)
            with self._progress:
                self._progress.notify_all()

    def _work(self, item: OutboxRow) -> None:
        try:
            self._apply(item)
        except Exception as exc:
            self._failed(item, _Failure(exc))
            return
        try:
            self.outbox.done(item)
        except Exception:
            log.warning("Zendesk outbox: operation %s done but not recorded; it is redone (idempotently)", item.id)
            return
        self.last_ok_at = datetime.now(UTC)
        if self._failures:
            self._failures = 0
            woken = self.outbox.wake()
            log.info("Zendesk answers again; %d queued ticket operation(s) due now", woken)

    def _failed(self, item: OutboxRow, failure: _Failure) -> None:
        message = str(failure)
        self.last_error, self.last_error_at = message, datetime.now(UTC)
        try:
            if failure.closed:
                log.warning("request %s: its ticket is closed; update %s dropped", item.request_id, item.id)
                self.outbox.give_up(item, f"ticket closed: {message}")
            elif isinstance(failure.exc, _TicketGone) and item.attempts < self.max_attempts:
                log.warning("request %s: its ticket is gone; the next try opens a new one", item.request_id)
                self.outbox.retry(item, self._delay(item.attempts, None), message)
            elif failure.transient:
                self._failures += 1
                delay = self._delay(self._failures, failure.retry_after)
                self._pause_until = time.monotonic() + delay
                log.warning("Zendesk: %s; ticket work resumes in %.1fs", message, delay)
                self.outbox.retry(item, delay, message)
            elif item.attempts >= self.max_attempts:
                log.error(
                    "request %s: ticket update %s given up after %d tries: %s",
                    item.request_id,
                    item.id,
                    item.attempts,
                    message,
                )
                self.outbox.give_up(item, message)
            else:
                log.warning("request %s: ticket update %s failed: %s", item.request_id, item.id, message)
                self.outbox.retry(item, self._delay(item.attempts, None), message)
        except Exception:
            log.warning("Zendesk outbox: could not record a failure (the claim expires)", exc_info=True)

    def _delay(self, failures: int, retry_after: float | None) -> float:
        base, cap = self.backoff
        delay = min(cap, base * 2 ** max(0, failures - 1)) * random.uniform(0.8, 1.0)
        return max(delay, min(retry_after, 300.0)) if retry_after else delay

    # -- one operation ---------------------------------------------------------------------------
    def _apply(self, item: OutboxRow) -> None:
        req = self.store.find(item.request_id)
        if req is None:
            return  # the request is gone: nothing to tell
        ticket_id = self._ensure_ticket(req, f"{external_id(req.id)}/{item.id}")
        if item.kind != "comment":
            return
        body, public, status = item.payload["body"], bool(item.payload.get("public", True)), item.payload.get("status")
        marker = f"{MARKER}{req.id}, update {item.id})"
        if item.attempts > 1 and self.client.has_comment_with(ticket_id, marker):
            return  # an earlier try got there although its answer was lost
        try:
            self.client.comment(ticket_id, f"{body}\n\n{marker}", public, status)
        except RecordNotFoundException as exc:
            self.store.update_fields(req.id, ticket_id=None)
            raise _TicketGone(f"ticket #{ticket_id} is gone") from exc

    def _ensure_ticket(self, req: RequestView, key: str) -> int:
        """The request's ticket: stored, else found by external_id, else created now (with
        `key` as its Idempotency-Key, the same on every try of this operation)."""
        if req.ticket_id is not None:
            return req.ticket_id
        ext = external_id(req.id)
        earliest = req.created_at - ADOPT_SKEW
        found = [tid for tid, created in self.client.find(ext) if created is None or created >= earliest]
        if found:
            ticket_id, how = found[0], "found"
        else:
            ticket_id, how = self.client.create(self._ticket_fields(req), key), "opened"
        self.store.update_fields(req.id, ticket_id=ticket_id)
        self.store.audit(req.id, self.owner, "note", "zendesk_ticket", f"Zendesk ticket #{ticket_id} {how}")
        log.info("request %s: Zendesk ticket #%s %s", req.id, ticket_id, how)
        if self.workflow is not None:
            self.workflow.emit("ticket", self.store.get(req.id), None, ticket_url(self.settings, ticket_id))
        return ticket_id

    def _ticket_fields(self, req: RequestView) -> dict:
        webhook = bool(self.settings.zendesk_webhook_secret)
        email = req.requester_email or self.settings.zendesk_email
        requester = {"email": email}
        if req.requester_email and req.requester_name:
            requester["name"] = req.requester_name
        return {
            "subject": ticket_text.subject(req),
            "comment": {"body": ticket_text.description(req, self.names, webhook), "public": True},
            "tags": ticket_text.tags(req),
            "external_id": external_id(req.id),
            "requester": requester,
            "due_at": req.desired_at.strftime("%Y-%m-%dT%H:%M:%SZ") if req.desired_at else None,
        }

    # -- health ----------------------------------------------------------------------------------
    def health(self, store_ok: bool = True) -> dict:
        """For /healthz: the outbox depth and Zendesk's last error; never raises. With the
        store known to be down the outbox is not asked (that query would hang as the store does)."""
        out: dict[str, Any] = {
            "last_error": self.last_error,
            "last_error_at": _iso(self.last_error_at),
            "last_ok_at": _iso(self.last_ok_at),
            "outbox": None,
        }
        if store_ok:
            try:
                stats = self.outbox.stats()
            except Exception:
                return {"zendesk": out}
            out.update(outbox=stats.pending, dead=stats.dead)
            if stats.oldest is not None:
                out["oldest_pending_seconds"] = round((datetime.now(UTC) - stats.oldest).total_seconds(), 1)
            if out["last_error"] is None and stats.last_error:
                out["last_error"], out["last_error_at"] = stats.last_error, _iso(stats.last_error_at)
        return {"zendesk": out}


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def attach(
    workflow: Workflow, settings: Settings, names: Names | None = None, start: bool = True, **options: Any
) -> ZendeskSync | None:
    """Subscribe the ticket listener to the workflow and start its worker; None (and nothing
    at all) when Zendesk is not configured."""
    if not configured(settings):
        return None
    sync = ZendeskSync(settings, workflow.store, workflow, names=names, **options)
    workflow.subscribe(sync, "zendesk")
    if start:
        sync.start()
    return sync
