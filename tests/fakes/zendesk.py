"""A stateful fake of the Zendesk Support API v2 (tickets, comments, users, search) and of
Zendesk's signed webhook calls, for tests that drive the real ``zenpy`` client (2.0.57).

Pointing zenpy at the fake
--------------------------
zenpy builds every URL as ``https://{subdomain}.{domain}/api/v2/...`` (``BaseApi._build_url``;
the scheme is the constant ``https``).  It offers two ways to reach a plain-HTTP server on
127.0.0.1, and the fake supports both:

1. **A session (recommended; this is what the tests use).**  zenpy takes ``session=`` and only
   adds the credentials to it, so a test keeps the product's real construction and hands in a
   session whose adapter carries ``https://{subdomain}.zendesk.com`` to the fake::

       with FakeZendesk() as zd:
           client = Zenpy(subdomain=zd.subdomain, email=zd.email, token=zd.token,
                          session=zd.session(), timeout=5)
           # or simply: client = zd.client(timeout=5)

   ``zd.session()`` mounts a ``BaseUrlAdapter`` built with ``Zenpy.http_adapter_kwargs()``: the
   very retry policy zenpy mounts on its own default session, so retries (measured below)
   are the ones production sees.  The adapter hands zenpy back responses whose ``url`` is the
   public ``https://{subdomain}.zendesk.com/...`` address (zenpy's response handlers check
   that the URL contains ``{subdomain}.{domain}``), and it tells the fake the public address
   in ``X-Forwarded-Host``/``-Proto`` so the ``url`` fields and pagination links the fake
   renders point back through the adapter.  A product that must reach Zendesk through an
   ``http://`` proxy (``ZENDESK_URL``) can use the same technique: a session with an adapter
   that rewrites the base URL, built with ``Zenpy.http_adapter_kwargs()``.

2. **zenpy's own overrides**: the environment variables ``ZENPY_FORCE_SCHEME=http`` and
   ``ZENPY_FORCE_NETLOC=127.0.0.1:PORT`` (read in ``BaseApi._build_url``/``base_url`` on every
   call; ``zd.zenpy_env()`` returns them).  They are process-wide, and because zenpy mounts
   its retrying adapter on ``https://`` only, a client reached this way gets *no* transport
   retries at all.  A test that wants the production retry behaviour must use (1).

   The ``subdomain``/``domain`` parameters cannot do it alone: ``Zenpy(subdomain="127",
   domain="0.0.1:PORT")`` does yield the netloc ``127.0.0.1:PORT`` but keeps ``https``.

What zenpy 2.0.57 does on failures (measured by tests/fakes/test_fake_zendesk.py)
-----------------------------------------------------------------------------------
* **429**: ``BaseApi._call_api`` handles it itself, for every method: while the answer is
  429 with ``Retry-After`` > 0 it sleeps that many seconds (in 1 s steps) and re-sends the
  same request — with no limit unless ``ratelimit_budget=N`` is given, in which case it raises
  ``zenpy.lib.exception.RatelimitBudgetExceeded`` once the seconds it has waited reach N (a
  budget of N lets it wait N-1 seconds).  A 429 without ``Retry-After`` (or ``Retry-After: 0``)
  is not retried: Zendesk's 429 body is plain text, so zenpy raises ``requests.HTTPError``.
  ``Retry-After`` must be an integer: zenpy calls ``int()`` on it (``"1.5"`` -> ValueError).
  Not measured, read in the source: ``proactive_ratelimit=N`` sleeps before a call when the
  last answer's ``X-Rate-Limit-Remaining`` was below N and the last call was less than
  ``proactive_ratelimit_request_interval`` (10) seconds ago.
* **5xx**: zenpy's adapter (urllib3 ``Retry(total=3, status_forcelist=[413, 503],
  respect_retry_after_header=False)``) re-sends **GET and PUT** (urllib3's idempotent methods)
  three more times on 503, immediately, and then raises ``requests.exceptions.RetryError``
  (a 503 that clears within the retries is invisible to the caller); **POST** is never
  retried and a 503 raises ``APIException`` (JSON body) or ``requests.HTTPError`` (other
  bodies).  500/502/504 are never retried: ``APIException`` or ``requests.HTTPError``.
* **Timeouts** (``Zenpy(timeout=s)``): a read timeout on GET/PUT is retried three more times
  (four waits of ``s``) and then raises ``requests.ConnectionError``; a POST is not retried
  and raises ``requests.exceptions.ReadTimeout`` after one wait.  If Zendesk was only slow,
  it still applies every copy it received: a timed-out PUT with a comment can leave up to
  four comments, a timed-out POST a ticket the caller never heard of.
* **Lost responses** (connection closed without an answer): a POST raises
  ``requests.ConnectionError`` although Zendesk created the ticket; GET and **PUT are
  silently re-sent** by the adapter, so an update that carries a comment is applied twice
  (two comments) while the caller sees one success.
* A refused connection (``stop()``) ends in ``requests.ConnectionError``; urllib3 retries
  connection errors three times for every method, POST included (nothing was sent).
* zenpy caches objects by id: ``client.tickets(id=n)`` answers from its cache (no request)
  once it has seen ticket ``n``; use ``Zenpy(disable_cache=True)`` or re-read through a list.

The Zendesk behaviours kept (sources: developer.zendesk.com/api-reference — Tickets, Ticket
Comments, Users, Search, Rate limits, Introduction/Security-and-auth; developer.zendesk.com
"Verifying webhook authenticity"; support.zendesk.com "About system ticket rules" and
"Zendesk Support placeholders reference")
-------------------------------------------------------------------------------------------
* API token auth is Basic ``{email}/token:{api_token}``; anything else answers
  ``401 {"error": "Couldn't authenticate you"}``.
* ``POST /tickets`` answers 201 with ``{"ticket": ..., "audit": ...}`` and a ``Location``;
  the ticket needs a first comment (``comment.body``/``comment.html_body``, or the legacy
  ``description``) — else ``422 RecordInvalid`` "Description: cannot be blank".
  ``requester: {email, name}`` finds the user by email or creates an end user on the fly;
  ``requester_id`` must exist.  The submitter defaults to the requester and is the author
  of the first comment (API reference: "The submitter always becomes the author of the first
  comment").  New tickets are ``new`` unless a status is given.
* ``PUT /tickets/{id}``: ``comment`` adds a comment (``public`` defaults to true; ``false``
  is an internal note) authored by the API user unless ``author_id`` is given; ``tags``
  replaces, ``additional_tags``/``remove_tags`` edit; a **closed** ticket cannot be updated:
  ``422 {"error": "RecordInvalid", "description": "Record validation errors", "details":
  {"status": [{"description": "Status: closed prevents ticket update", "error":
  "ClosedTicket"}]}}``; ``safe_update`` with a stale ``updated_stamp`` answers
  ``409 UpdateConflict``.
* System ticket rules: a ``new`` ticket that gets an assignee becomes ``open``; a ticket that
  has left ``new`` can never be set back to it (422); a ticket cannot be ``solved`` without an
  assignee — with "auto assign tickets upon solve" on (``auto_assign_on_solve=True``, the
  default) the solving agent becomes the assignee, otherwise 422; an end user's comment on a
  pending, solved or on-hold ticket reopens it (``requester_reply``), an agent's API comment
  does not; solved tickets close by themselves later (``auto_close``).
* ``external_id`` is not unique in Zendesk: ``GET /tickets.json?external_id=`` lists every
  ticket that carries it (cursor pagination when ``page[size]`` is sent, as zenpy does).
* ``GET /search.json`` understands ``type:``, ``external_id:``, ``tags:``/``tag:``,
  ``status:``/``status<``/``status>``, ``priority:``, ``ticket_type:``, ``subject:``,
  ``requester:``, ``-`` negation, quotes and bare words; results carry ``result_type``.
  Zendesk's search index lags behind writes — ``search_delay`` (seconds) reproduces that.
* ``POST /tickets`` with an ``Idempotency-Key`` header: a key seen in the last two hours gets
  the first answer again (``x-idempotency-lookup: hit``) and creates nothing; a new key is
  processed (``miss``).  The key is checked when the request is applied, so a request held by
  ``hang`` and released after its retry went through finds the retry's answer.  (Zendesk API
  introduction, "Idempotency"; what Zendesk answers for a reused key with another body is not
  modelled.)
* Unknown ids answer ``404 {"error": "RecordNotFound", "description": "Not found"}``.
* ``429`` carries ``Retry-After`` (seconds) and ``X-Rate-Limit``/``X-Rate-Limit-Remaining``,
  which every answer carries; its body is ``text/plain`` "Number of allowed API requests per
  minute exceeded" (as in 429s quoted on Zendesk's community forum).
* Webhooks are signed ``base64(HMAC-SHA256(secret, timestamp + raw body))`` in
  ``X-Zendesk-Webhook-Signature`` with the timestamp in
  ``X-Zendesk-Webhook-Signature-Timestamp``; placeholders sent to a webhook are plain text.

Best guesses, not from a source: tags are lower-cased and a tag holding spaces becomes several
tags; emails are stored lower-case; the wording of 422 bodies other than the closed ticket's;
``{{ticket.status}}`` renders the English display name ("Open", "Solved") and
``{{ticket.latest_comment}}`` the newest comment public or internal
(``{{ticket.latest_public_comment}}`` skips internal notes) — a product should compare
status case-insensitively.  Choices of the fake: ``down = True`` answers every request
``503`` with an HTML maintenance page (not a refused connection: ``stop()`` gives that);
``fail``/``rate_limit`` answers change nothing; a ``hang`` gate holds a request *before* it is
applied, so a request released after its client gave up is still applied.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import itertools
import json
import re
import shlex
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import requests
from requests.adapters import HTTPAdapter

__all__ = [
    "BaseUrlAdapter",
    "FakeZendesk",
    "Gate",
    "OPS_TRIGGER_TEMPLATE",
    "RequestRecord",
    "sign_webhook",
]

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low")
TICKET_TYPES = ("problem", "incident", "question", "task")
IDEMPOTENCY_SECONDS = 2 * 3600  # how long Zendesk keeps an Idempotency-Key's answer
RATE_LIMIT_BODY = "Number of allowed API requests per minute exceeded"
AUTH_ERROR = {"error": "Couldn't authenticate you"}
NOT_FOUND = {"error": "RecordNotFound", "description": "Not found"}
CLOSED_ERROR = {
    "error": "RecordInvalid",
    "description": "Record validation errors",
    "details": {"status": [{"description": "Status: closed prevents ticket update", "error": "ClosedTicket"}]},
}
DOWN_PAGE = (
    "<html><head><title>Zendesk is down for maintenance</title></head>"
    "<body><h1>We'll be back shortly</h1></body></html>"
)

# The webhook body the ops guide (docs/operations.md) tells the Zendesk admin to paste into the trigger.
OPS_TRIGGER_TEMPLATE = (
    '{"ticket": {"id": "{{ticket.id}}", "external_id": "{{ticket.external_id}}",\n'
    ' "tags": "{{ticket.tags}}", "status": "{{ticket.status}}",\n'
    ' "latest_comment": "{{ticket.latest_comment}}"}}'
)

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*\}\}")
_TAG_SPLIT = re.compile(r"\s+")
_HTML_TAG = re.compile(r"<[^>]+>")


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def sign_webhook(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """Zendesk's webhook signature: base64(HMAC-SHA256(secret, timestamp + raw body))."""
    key = secret.encode() if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, timestamp.encode() + body, hashlib.sha256).digest()).decode()


def _normalize_tags(tags: Any) -> list[str]:
    """Zendesk keeps tags lower-case and splits a tag that holds whitespace into several."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [tags]
    out: list[str] = []
    for tag in tags:
        for word in _TAG_SPLIT.split(str(tag).strip().lower()):
            if word and word not in out:
                out.append(word)
    return out


def _plain(html_body: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", html_body)
    return html.unescape(_HTML_TAG.sub("", text)).strip()


def _html(body: str) -> str:
    paragraphs = "".join(f'<p dir="auto">{html.escape(p)}</p>' for p in body.split("\n\n") if p.strip())
    return f'<div class="zd-comment" dir="auto">{paragraphs or "<p></p>"}</div>'


# ---------------------------------------------------------------------------------------------
# records, gates, errors
# ---------------------------------------------------------------------------------------------
@dataclass
class RequestRecord:
    """One request as the fake saw it.

    ``status`` is the status answered (None while in flight, and for a lost response);
    ``outcome`` is ``"answered"``, ``"lost"`` (applied, connection dropped) or ``"pending"``.
    ``auth_user`` is the user part of Basic auth (``"{email}/token"``); the password/token
    itself is never recorded.
    """

    method: str
    path: str
    query: str
    body: str
    auth_user: str | None
    status: int | None = None
    outcome: str = "pending"
    t: float = 0.0

    def text(self) -> str:
        """Everything the client chose to send besides its credentials (path, query, body)."""
        return f"{self.method} {unquote(self.path)}?{unquote(self.query)}\n{self.body}"


class Gate:
    """Holds matching requests until ``release()``; see ``FakeZendesk.hang``."""

    def __init__(self, method: str, path_regex: str, times: int | None):
        self.method = method
        self.path_regex = path_regex
        self.remaining = times
        self.hits = 0
        self.waiting = 0
        self._released = threading.Event()
        self._hit = threading.Event()
        self._lock = threading.Lock()

    def release(self) -> None:
        self._released.set()

    @property
    def released(self) -> bool:
        return self._released.is_set()

    def wait_hit(self, timeout: float | None = None) -> bool:
        """True once at least one request has reached the gate."""
        return self._hit.wait(timeout)

    def _take(self) -> bool:
        with self._lock:
            if self._released.is_set() or self.remaining == 0:
                return False
            if self.remaining is not None:
                self.remaining -= 1
            self.hits += 1
            self.waiting += 1
        return True

    def _hold(self) -> None:
        self._hit.set()
        try:
            self._released.wait()
        finally:
            with self._lock:
                self.waiting -= 1


class _ApiError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _invalid(field_name: str, description: str, error: str = "InvalidValue") -> _ApiError:
    return _ApiError(
        422,
        {
            "error": "RecordInvalid",
            "description": "Record validation errors",
            "details": {field_name: [{"description": description, "error": error}]},
        },
    )


@dataclass
class _Fault:
    kind: str  # "fail" | "lose"
    method: str
    rx: re.Pattern
    remaining: int | None
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None

    def matches(self, method: str, path: str) -> bool:
        return (
            self.method in ("*", method)
            and bool(self.rx.search(path))
            and (self.remaining is None or self.remaining > 0)
        )


# ---------------------------------------------------------------------------------------------
# state
# ---------------------------------------------------------------------------------------------
@dataclass
class _User:
    id: int
    name: str
    email: str | None
    role: str = "end-user"
    external_id: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    verified: bool = False
    tags: list[str] = field(default_factory=list)
    phone: str | None = None
    organization_id: int | None = None


@dataclass
class _Comment:
    id: int
    author_id: int
    body: str
    html_body: str
    public: bool
    audit_id: int
    created_at: float


@dataclass
class _Ticket:
    id: int
    subject: str | None
    description: str
    status: str
    requester_id: int
    submitter_id: int
    created_at: float
    updated_at: float
    external_id: str | None = None
    priority: str | None = None
    type: str | None = None
    assignee_id: int | None = None
    group_id: int | None = None
    organization_id: int | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: list[dict] = field(default_factory=list)
    due_at: str | None = None
    comments: list[_Comment] = field(default_factory=list)


class _Req:
    def __init__(self, method: str, path: str, query: str, headers: Any, body: bytes, base: str):
        self.method = method
        self.path = path
        self.pairs = parse_qsl(query, keep_blank_values=True)
        self.q = {}
        for k, v in self.pairs:
            self.q.setdefault(k, v)
        self.headers = headers
        self.raw = body
        self.base = base  # public base URL, e.g. https://mitx.zendesk.com

    def json(self) -> dict:
        if not self.raw.strip():
            return {}
        try:
            data = json.loads(self.raw)
        except ValueError:
            raise _ApiError(400, {"error": "Unprocessable Entity", "description": "Invalid JSON"}) from None
        if not isinstance(data, dict):
            raise _ApiError(400, {"error": "Unprocessable Entity", "description": "Invalid JSON"})
        return data


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], fake: FakeZendesk):
        self.fake = fake
        super().__init__(addr, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Zendesk"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _go(self) -> None:
        self.server.fake._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _go


# ---------------------------------------------------------------------------------------------
# the transport adapter (construction 1 in the module docstring)
# ---------------------------------------------------------------------------------------------
class BaseUrlAdapter(HTTPAdapter):
    """Sends requests for ``public_base`` (``https://x.zendesk.com``) to ``target_base``
    (``http://127.0.0.1:PORT``) and hands back responses that still carry the public URL.

    Extra keyword arguments go to ``HTTPAdapter`` (pass ``Zenpy.http_adapter_kwargs()`` for
    zenpy's own retry policy).
    """

    def __init__(self, public_base: str, target_base: str, **kwargs: Any):
        self.public_base = public_base.rstrip("/")
        self.target_base = target_base.rstrip("/")
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        original = request.url or ""
        sent = request.copy()
        if original.startswith(self.public_base):
            public = urlsplit(self.public_base)
            sent.url = self.target_base + original[len(self.public_base) :]
            sent.headers["X-Forwarded-Host"] = public.netloc
            sent.headers["X-Forwarded-Proto"] = public.scheme
        response = super().send(sent, *args, **kwargs)
        response.request = request
        response.url = original
        return response


# ---------------------------------------------------------------------------------------------
# the fake
# ---------------------------------------------------------------------------------------------
class FakeZendesk:
    """A fake Zendesk Support account on 127.0.0.1 (see the module docstring).

    ``FakeZendesk(subdomain, email, token)`` creates the account with one agent (the API
    user, ``email``); ``start()``/``stop()`` or ``with``.  Seed with ``add_user``/
    ``add_ticket``/``requester_reply``/``auto_close``, exercise it with zenpy (``client()``,
    ``session()``), inspect with ``tickets``/``ticket``/``ticket_by_external_id``/
    ``comments``/``users``/``requests``/``count``/``assert_never_sent``, inject faults with
    ``fail``/``rate_limit``/``hang``/``lose_response``/``down``, and play Zendesk's side of a
    trigger with ``trigger_body``/``webhook_request``.
    """

    def __init__(
        self,
        subdomain: str = "mitx",
        email: str = "orcoursetrion@mit.edu",
        token: str = "zd-api-token-0123456789",
        agent_name: str = "Orcoursetrion Bot",
        first_ticket_id: int = 1001,
        search_delay: float = 0.0,
        requests_per_minute: int = 700,
        enforce_rate_limit: bool = False,
        auto_assign_on_solve: bool = True,
        clock: Callable[[], float] | None = None,
    ):
        self.subdomain = subdomain
        self.email = email
        self.token = token
        self.search_delay = search_delay
        self.requests_per_minute = requests_per_minute
        self.enforce_rate_limit = enforce_rate_limit
        self.auto_assign_on_solve = auto_assign_on_solve
        self.clock: Callable[[], float] = clock or time.time
        self.down = False
        self.server_errors: list[str] = []  # tracebacks of 500s the fake gave (a bug in the fake)

        self._lock = threading.RLock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._ticket_ids = itertools.count(first_ticket_id)
        self._user_ids = itertools.count(360_000_001)
        self._comment_ids = itertools.count(9_000_001)
        self._audit_ids = itertools.count(7_000_001)
        self._users: dict[int, _User] = {}
        self._tickets: dict[int, _Ticket] = {}
        self._index: dict[int, list[tuple[float, dict]]] = {}  # search index: ticket id -> versions
        self._requests: list[RequestRecord] = []
        self._faults: list[_Fault] = []
        self._gates: list[tuple[str, re.Pattern, Gate]] = []
        self._minute_start: float | None = None
        self._minute_used = 0
        self._idempotent: dict[str, tuple[float, int, Any, dict[str, str]]] = {}  # key -> (at, answer)
        self.agent = self.add_user(email, agent_name, role="admin")

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> FakeZendesk:
        if self._server is None:
            self._server = _Server(("127.0.0.1", 0), self)
            self._port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-zendesk",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            gates = [g for _, _, g in self._gates]
        for gate in gates:
            gate.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeZendesk:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """Where the fake listens: ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/v2"

    @property
    def public_url(self) -> str:
        """The address zenpy builds for this account: ``https://{subdomain}.zendesk.com``."""
        return f"https://{self.subdomain}.zendesk.com"

    # -- clients ---------------------------------------------------------------------------------
    def adapter(self, retries: bool = True) -> BaseUrlAdapter:
        """The adapter ``session()`` mounts; ``retries=True`` uses zenpy's default retry policy."""
        kwargs: dict[str, Any] = {}
        if retries:
            from zenpy import Zenpy

            kwargs = Zenpy.http_adapter_kwargs()
        return BaseUrlAdapter(self.public_url, self.url, **kwargs)

    def session(self, retries: bool = True) -> requests.Session:
        """A ``requests.Session`` for ``Zenpy(session=...)`` that reaches this fake."""
        session = requests.Session()
        session.mount(self.public_url + "/", self.adapter(retries))
        return session

    def client(self, email: str | None = None, token: str | None = None, **kwargs: Any):
        """``Zenpy(subdomain=..., email=..., token=..., session=self.session(), **kwargs)``."""
        from zenpy import Zenpy

        kwargs.setdefault("session", self.session())
        return Zenpy(
            subdomain=self.subdomain,
            email=email or self.email,
            token=token or self.token,
            **kwargs,
        )

    def zenpy_env(self) -> dict[str, str]:
        """zenpy's process-wide override (construction 2): set these with monkeypatch.setenv."""
        return {"ZENPY_FORCE_SCHEME": "http", "ZENPY_FORCE_NETLOC": f"127.0.0.1:{self._port}"}

    # -- seeding (direct, not logged as requests) -------------------------------------------------
    def add_user(
        self,
        email: str | None,
        name: str | None = None,
        role: str = "end-user",
        external_id: str | None = None,
    ) -> dict:
        """Create a user, or return the one that has this email."""
        with self._lock:
            user = self._find_user(email) if email else None
            if user is None:
                user = self._new_user(email, name, role, external_id)
            return self._user_json(user, self.public_url)

    def add_ticket(
        self,
        subject: str,
        body: str = "Seeded ticket",
        requester_email: str = "requester@example.edu",
        external_id: str | None = None,
        status: str = "open",
        tags: list[str] | None = None,
        public: bool = True,
        **fields: Any,
    ) -> dict:
        """Seed a ticket as if created earlier (status may be anything, including closed)."""
        with self._lock:
            now = self.clock()
            requester = self._find_user(requester_email) or self._new_user(requester_email, None, "end-user", None)
            ticket = _Ticket(
                id=next(self._ticket_ids),
                subject=subject,
                description=body,
                status=status,
                requester_id=requester.id,
                submitter_id=requester.id,
                created_at=now,
                updated_at=now,
                external_id=external_id,
                tags=_normalize_tags(tags),
            )
            for key, value in fields.items():
                if not hasattr(ticket, key) or key in ("id", "comments"):
                    raise TypeError(f"add_ticket() got an unknown field {key!r}")
                setattr(ticket, key, value)
            self._tickets[ticket.id] = ticket
            self._add_comment(ticket, requester.id, body, None, public, next(self._audit_ids), now)
            self._reindex(ticket)
            return self._ticket_json(ticket, self.public_url)

    def requester_reply(self, ticket_id: int, body: str) -> dict:
        """The requester answers by email: a public comment; pending/solved/on-hold reopens."""
        with self._lock:
            ticket = self._tickets[ticket_id]
            if ticket.status == "closed":
                raise ValueError("a reply to a closed ticket makes a follow-up ticket in Zendesk")
            now = self.clock()
            comment = self._add_comment(ticket, ticket.requester_id, body, None, True, next(self._audit_ids), now)
            if ticket.status in ("pending", "solved", "hold"):
                ticket.status = "open"
            ticket.updated_at = now
            self._reindex(ticket)
            return self._comment_json(comment)

    def auto_close(self, ticket_id: int) -> dict:
        """What Zendesk does to a solved ticket some days later (28 at most)."""
        with self._lock:
            ticket = self._tickets[ticket_id]
            if ticket.status != "solved":
                raise ValueError(f"ticket {ticket_id} is {ticket.status}, not solved")
            ticket.status = "closed"
            ticket.updated_at = self.clock()
            self._reindex(ticket)
            return self._ticket_json(ticket, self.public_url)

    # -- inspection ------------------------------------------------------------------------------
    def tickets(self) -> list[dict]:
        with self._lock:
            return [self._ticket_json(t, self.public_url) for t in sorted(self._tickets.values(), key=lambda t: t.id)]

    def ticket(self, ticket_id: int) -> dict | None:
        with self._lock:
            t = self._tickets.get(int(ticket_id))
            return self._ticket_json(t, self.public_url) if t else None

    def tickets_by_external_id(self, external_id: str) -> list[dict]:
        return [t for t in self.tickets() if t["external_id"] == external_id]

    def ticket_by_external_id(self, external_id: str) -> dict | None:
        """The ticket with this external id; LookupError if there are several (a duplicate)."""
        found = self.tickets_by_external_id(external_id)
        if len(found) > 1:
            raise LookupError(f"{len(found)} tickets have external_id {external_id!r}: {[t['id'] for t in found]}")
        return found[0] if found else None

    def comments(self, ticket_id: int) -> list[dict]:
        """Comments oldest first, each with ``body``, ``public``, ``author`` (email) and the API fields."""
        with self._lock:
            ticket = self._tickets[int(ticket_id)]
            out = []
            for c in ticket.comments:
                data = self._comment_json(c)
                author = self._users.get(c.author_id)
                data["author"] = author.email if author else None
                out.append(data)
            return out

    def users(self) -> list[dict]:
        with self._lock:
            return [self._user_json(u, self.public_url) for u in sorted(self._users.values(), key=lambda u: u.id)]

    def user_by_email(self, email: str) -> dict | None:
        with self._lock:
            user = self._find_user(email)
            return self._user_json(user, self.public_url) if user else None

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def count(self, method: str | None = None, path_contains: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self._requests
                if (method is None or r.method == method.upper()) and (path_contains is None or path_contains in r.path)
            )

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def assert_never_sent(self, *secrets: str) -> None:
        """Fail if any secret appears in a path, query or body the fake received."""
        for rec in self.requests:
            text = rec.text()
            for secret in secrets:
                if secret and secret in text:
                    raise AssertionError(f"secret sent to Zendesk in {rec.method} {rec.path}")

    # -- fault injection -------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int | None = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """The next ``times`` matching requests (None: all) get this answer and change nothing.

        ``method`` may be ``"*"``; ``path_regex`` is searched in the path (``/api/v2/...``).
        The default body is Zendesk-style JSON ``{"error": ..., "description": ...}``; pass a
        ``str``/``bytes`` body to answer non-JSON (sent as ``text/html``).
        """
        with self._lock:
            self._faults.append(
                _Fault("fail", method.upper(), re.compile(path_regex), times, status, dict(headers or {}), body)
            )

    def rate_limit(self, seconds: int = 1, times: int | None = 1, method: str = "*", path_regex: str = "") -> None:
        """The next ``times`` matching requests get Zendesk's 429 with ``Retry-After: seconds``."""
        headers = {
            "Retry-After": str(seconds),
            "Content-Type": "text/plain; charset=utf-8",
            "X-Rate-Limit": str(self.requests_per_minute),
            "X-Rate-Limit-Remaining": "0",
        }
        self.fail(method, path_regex, 429, times=times, headers=headers, body=RATE_LIMIT_BODY)

    def hang(self, method: str, path_regex: str, times: int | None = None) -> Gate:
        """Hold the next ``times`` matching requests (None: all) until ``gate.release()``.

        A held request has not been applied yet; once released it is applied and answered
        (possibly to a client that has timed out and gone).
        """
        gate = Gate(method.upper(), path_regex, times)
        with self._lock:
            self._gates.append((method.upper(), re.compile(path_regex), gate))
        return gate

    def lose_response(self, method: str, path_regex: str, times: int | None = 1) -> None:
        """Apply the next ``times`` matching requests, then close the connection unanswered."""
        with self._lock:
            self._faults.append(_Fault("lose", method.upper(), re.compile(path_regex), times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            gates = [g for _, _, g in self._gates]
            self._gates.clear()
            self.down = False
        for gate in gates:
            gate.release()

    # -- webhooks --------------------------------------------------------------------------------
    def trigger_body(self, ticket: dict | int, template: str = OPS_TRIGGER_TEMPLATE) -> str:
        """Render a trigger's JSON webhook body as Zendesk would for this ticket.

        Placeholders become plain text inside the JSON strings (escaped so the body stays
        valid JSON): ``ticket.id`` as digits, ``ticket.tags`` space-separated,
        ``ticket.status`` as the status name shown to agents ("Open", "Solved"),
        ``ticket.latest_comment`` the plain text of the newest comment (public or internal;
        ``ticket.latest_public_comment`` skips internal notes), ``ticket.external_id`` empty
        when unset.  Unknown placeholders render empty, as in Zendesk.
        """
        ticket_id = ticket if isinstance(ticket, int) else int(ticket["id"])
        with self._lock:
            t = self._tickets[ticket_id]
            values = self._placeholders(t)

        def render(match: re.Match) -> str:
            return json.dumps(values.get(match.group(1), ""))[1:-1]

        return _PLACEHOLDER.sub(render, template)

    def webhook_request(
        self,
        url: str,
        secret: str,
        body: dict | str | bytes,
        timestamp: str | datetime | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> requests.Response:
        """POST ``body`` to ``url`` the way a Zendesk webhook does, signed with ``secret``.

        A dict is sent as compact JSON; ``str``/``bytes`` go as they are (use
        ``trigger_body``).  ``timestamp`` defaults to now, ISO-8601 UTC (``2024-05-01T12:00:00Z``).
        """
        if isinstance(body, dict):
            raw = json.dumps(body, separators=(",", ":")).encode()
        elif isinstance(body, str):
            raw = body.encode()
        else:
            raw = bytes(body)
        if timestamp is None:
            timestamp = datetime.now(UTC)
        if isinstance(timestamp, datetime):
            if timestamp.tzinfo is None:
                timestamp = timestamp.replace(tzinfo=UTC)
            timestamp = timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        out = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Zendesk Webhook",
            "X-Zendesk-Account-Id": "1234567",
            "X-Zendesk-Webhook-Id": "01HZFAKEWEBHOOK0000000000",
            "X-Zendesk-Webhook-Invocation-Id": str(uuid.uuid4().int)[:19],
            "X-Zendesk-Webhook-Signature": sign_webhook(secret, timestamp, raw),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        }
        out.update(headers or {})
        return requests.post(url, data=raw, headers=out, timeout=timeout)

    # ==========================================================================================
    # internals: state
    # ==========================================================================================
    def _find_user(self, email: str | None) -> _User | None:
        if not email:
            return None
        low = email.strip().lower()
        return next((u for u in self._users.values() if u.email and u.email.lower() == low), None)

    def _new_user(self, email: str | None, name: str | None, role: str, external_id: str | None) -> _User:
        now = self.clock()
        if not name:
            name = email.split("@")[0] if email else "Unknown"
        user = _User(
            id=next(self._user_ids),
            name=name,
            email=email.strip().lower() if email else None,
            role=role,
            external_id=external_id,
            created_at=now,
            updated_at=now,
            verified=role != "end-user",
        )
        self._users[user.id] = user
        return user

    def _add_comment(
        self,
        ticket: _Ticket,
        author_id: int,
        body: str | None,
        html_body: str | None,
        public: bool,
        audit_id: int,
        now: float,
    ) -> _Comment:
        if body is None:
            body = _plain(html_body or "")
        comment = _Comment(
            id=next(self._comment_ids),
            author_id=author_id,
            body=body,
            html_body=html_body if html_body is not None else _html(body),
            public=public,
            audit_id=audit_id,
            created_at=now,
        )
        ticket.comments.append(comment)
        return comment

    def _reindex(self, ticket: _Ticket) -> None:
        snapshot = self._ticket_json(ticket, self.public_url)
        snapshot["_text"] = " ".join([ticket.subject or ""] + [c.body for c in ticket.comments]).lower()
        snapshot["_requester"] = (self._users[ticket.requester_id].email or "").lower()
        self._index.setdefault(ticket.id, []).append((self.clock(), snapshot))

    def _searchable(self) -> list[dict]:
        """The search index as of now: each ticket's newest version older than search_delay."""
        horizon = self.clock() - self.search_delay
        out = []
        for versions in self._index.values():
            visible = [snap for t, snap in versions if t <= horizon]
            if visible:
                out.append(visible[-1])
        return sorted(out, key=lambda s: s["id"])

    def _solver(self) -> int:
        """The assignee a ticket solved by the API user gets (system rule)."""
        if not self.auto_assign_on_solve:
            raise _invalid("assignee", "Assignee: is required when the ticket is solved", "BlankValue")
        return self.agent["id"]

    def _placeholders(self, t: _Ticket) -> dict[str, str]:
        requester = self._users.get(t.requester_id)
        latest = t.comments[-1] if t.comments else None
        public = [c for c in t.comments if c.public]
        return {
            "ticket.id": str(t.id),
            "ticket.external_id": t.external_id or "",
            "ticket.tags": " ".join(t.tags),
            "ticket.status": t.status.capitalize(),
            "ticket.priority": (t.priority or "").capitalize(),
            "ticket.ticket_type": (t.type or "").capitalize(),
            "ticket.title": t.subject or "",
            "ticket.description": t.description,
            "ticket.latest_comment": latest.body if latest else "",
            "ticket.latest_public_comment": public[-1].body if public else "",
            "ticket.requester.email": (requester.email or "") if requester else "",
            "ticket.requester.name": requester.name if requester else "",
            "ticket.url": f"{self.subdomain}.zendesk.com/agent/tickets/{t.id}",
            "ticket.link": f"{self.public_url}/agent/tickets/{t.id}",
        }

    # ==========================================================================================
    # internals: JSON shapes (API reference "JSON format" tables)
    # ==========================================================================================
    @staticmethod
    def _via() -> dict:
        return {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}}

    def _user_json(self, u: _User, base: str) -> dict:
        return {
            "id": u.id,
            "url": f"{base}/api/v2/users/{u.id}.json",
            "name": u.name,
            "email": u.email,
            "created_at": _iso(u.created_at),
            "updated_at": _iso(u.updated_at),
            "time_zone": "Eastern Time (US & Canada)",
            "iana_time_zone": "America/New_York",
            "phone": u.phone,
            "shared_phone_number": None,
            "photo": None,
            "locale_id": 1,
            "locale": "en-US",
            "organization_id": u.organization_id,
            "role": u.role,
            "verified": u.verified,
            "external_id": u.external_id,
            "tags": list(u.tags),
            "alias": "",
            "active": True,
            "shared": False,
            "shared_agent": False,
            "last_login_at": None,
            "two_factor_auth_enabled": False,
            "signature": "",
            "details": "",
            "notes": "",
            "role_type": None,
            "custom_role_id": None,
            "moderator": u.role != "end-user",
            "ticket_restriction": None if u.role != "end-user" else "requested",
            "only_private_comments": False,
            "restricted_agent": False,
            "suspended": False,
            "default_group_id": None,
            "report_csv": False,
            "user_fields": {},
        }

    def _comment_json(self, c: _Comment) -> dict:
        return {
            "id": c.id,
            "type": "Comment",
            "author_id": c.author_id,
            "body": c.body,
            "html_body": c.html_body,
            "plain_body": c.body,
            "public": c.public,
            "attachments": [],
            "audit_id": c.audit_id,
            "via": self._via(),
            "created_at": _iso(c.created_at),
            "metadata": {"system": {"client": "Zenpy", "ip_address": "127.0.0.1"}, "custom": {}},
        }

    def _ticket_json(self, t: _Ticket, base: str) -> dict:
        return {
            "url": f"{base}/api/v2/tickets/{t.id}.json",
            "id": t.id,
            "external_id": t.external_id,
            "via": self._via(),
            "created_at": _iso(t.created_at),
            "updated_at": _iso(t.updated_at),
            "generated_timestamp": int(t.updated_at),
            "type": t.type,
            "subject": t.subject,
            "raw_subject": t.subject,
            "description": t.description,
            "priority": t.priority,
            "status": t.status,
            "recipient": None,
            "requester_id": t.requester_id,
            "submitter_id": t.submitter_id,
            "assignee_id": t.assignee_id,
            "organization_id": t.organization_id,
            "group_id": t.group_id,
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": None,
            "problem_id": None,
            "has_incidents": False,
            "is_public": any(c.public for c in t.comments),
            "due_at": t.due_at,
            "tags": list(t.tags),
            "custom_fields": list(t.custom_fields),
            "satisfaction_rating": None,
            "sharing_agreement_ids": [],
            "custom_status_id": None,
            "fields": list(t.custom_fields),
            "followup_ids": [],
            "ticket_form_id": None,
            "brand_id": None,
            "allow_channelback": False,
            "allow_attachments": True,
            "from_messaging_channel": False,
        }

    def _audit_json(self, audit_id: int, t: _Ticket, author_id: int, now: float, events: list[dict]) -> dict:
        numbered = [{"id": next(self._audit_ids), **e} for e in events]
        return {
            "id": audit_id,
            "ticket_id": t.id,
            "created_at": _iso(now),
            "author_id": author_id,
            "metadata": {"system": {"client": "Zenpy", "ip_address": "127.0.0.1"}, "custom": {}},
            "via": self._via(),
            "events": numbered,
        }

    # ==========================================================================================
    # HTTP plumbing
    # ==========================================================================================
    def _read_body(self, h: BaseHTTPRequestHandler) -> bytes:
        if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(h.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(h.rfile.read(size))
                h.rfile.readline(65537)
        length = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(length) if length > 0 else b""

    @staticmethod
    def _auth_user(header: str | None) -> tuple[str, str] | None:
        if not header:
            return None
        scheme, _, cred = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return ("", "")
        try:
            user, _, password = base64.b64decode(cred.strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return ("", "")
        return user, password

    def _public_base(self, h: BaseHTTPRequestHandler) -> str:
        host = h.headers.get("X-Forwarded-Host") or h.headers.get("Host") or f"127.0.0.1:{self._port}"
        proto = h.headers.get("X-Forwarded-Proto") or "http"
        return f"{proto}://{host}"

    def _rate_headers(self) -> dict[str, str]:
        with self._lock:
            used = self._minute_used if self._minute_start is not None else 0
        return {
            "X-Rate-Limit": str(self.requests_per_minute),
            "X-Rate-Limit-Remaining": str(max(0, self.requests_per_minute - used)),
        }

    def _count_minute(self) -> int | None:
        """Count a request against the per-minute limit; seconds to wait when over it."""
        with self._lock:
            now = self.clock()
            if self._minute_start is None or now >= self._minute_start + 60:
                self._minute_start, self._minute_used = now, 0
            if self.enforce_rate_limit and self._minute_used >= self.requests_per_minute:
                return max(1, int(self._minute_start + 60 - now + 0.999))
            self._minute_used += 1
            return None

    def _take_fault(self, method: str, path: str, kinds: tuple[str, ...]) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(method, path):
                    if fault.remaining is not None:
                        fault.remaining -= 1
                    return fault
        return None

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        rec: RequestRecord,
        status: int,
        body: bytes,
        headers: dict[str, str],
    ) -> None:
        with self._lock:
            rec.status, rec.outcome = status, "answered"
        h.send_response(status)
        merged = {"Content-Type": "application/json; charset=utf-8", **self._rate_headers(), **headers}
        merged.setdefault("X-Request-Id", uuid.uuid4().hex[:16])
        for key, value in merged.items():
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _send_json(self, h, rec, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(h, rec, status, b"" if data is None else json.dumps(data).encode(), headers or {})

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        try:
            self._serve(h)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            h.close_connection = True

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        method = h.command.upper()
        parts = urlsplit(h.path)
        path = parts.path or "/"
        body = self._read_body(h)
        auth = self._auth_user(h.headers.get("Authorization"))
        rec = RequestRecord(
            method,
            path,
            parts.query,
            body.decode("utf-8", "replace"),
            auth[0] if auth else None,
            t=self.clock(),
        )
        with self._lock:
            self._requests.append(rec)
            gates = [
                g for m, rx, g in self._gates if m in ("*", method) and rx.search(path) and not g.released and g._take()
            ]
        for gate in gates:
            gate._hold()

        if self.down:
            self._send(h, rec, 503, DOWN_PAGE.encode(), {"Content-Type": "text/html; charset=utf-8"})
            return
        fault = self._take_fault(method, path, ("fail",))
        if fault is not None:
            self._send_fault(h, rec, fault)
            return
        if auth is None or auth != (f"{self.email}/token", self.token):
            self._send_json(h, rec, 401, AUTH_ERROR, {"WWW-Authenticate": 'Basic realm="Web Password"'})
            return
        wait = self._count_minute()
        if wait is not None:
            self._send(
                h,
                rec,
                429,
                RATE_LIMIT_BODY.encode(),
                {"Content-Type": "text/plain; charset=utf-8", "Retry-After": str(wait)},
            )
            return
        lose = self._take_fault(method, path, ("lose",))
        req = _Req(method, path, parts.query, h.headers, body, self._public_base(h))
        with self._lock:
            try:
                status, data, headers = self._dispatch(req)
            except _ApiError as err:
                status, data, headers = err.status, err.body, err.headers
            except Exception:  # a bug in the fake: answer 500 and keep the traceback
                self.server_errors.append(traceback.format_exc())
                status, data, headers = 500, {"error": "InternalServerError", "description": "fake bug"}, {}
        if lose is not None:
            with self._lock:
                rec.outcome = "lost"
            h.close_connection = True
            return
        self._send_json(h, rec, status, data, headers)

    def _send_fault(self, h: BaseHTTPRequestHandler, rec: RequestRecord, fault: _Fault) -> None:
        body = fault.body
        headers = dict(fault.headers)
        if body is None:
            try:
                phrase = HTTPStatus(fault.status).phrase
            except ValueError:
                phrase = "Error"
            body = {"error": phrase.replace(" ", ""), "description": phrase}
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode()
        else:
            payload = body.encode() if isinstance(body, str) else bytes(body)
            headers.setdefault("Content-Type", "text/html; charset=utf-8")
        self._send(h, rec, fault.status, payload, headers)

    # ==========================================================================================
    # routes
    # ==========================================================================================
    _ROUTES: list[tuple[str, re.Pattern, str]] = [
        ("GET", re.compile(r"/api/v2/tickets"), "_h_list_tickets"),
        ("POST", re.compile(r"/api/v2/tickets"), "_h_create_ticket"),
        ("GET", re.compile(r"/api/v2/tickets/show_many"), "_h_show_many_tickets"),
        ("GET", re.compile(r"/api/v2/tickets/(\d+)"), "_h_get_ticket"),
        ("PUT", re.compile(r"/api/v2/tickets/(\d+)"), "_h_update_ticket"),
        ("GET", re.compile(r"/api/v2/tickets/(\d+)/comments"), "_h_list_comments"),
        ("GET", re.compile(r"/api/v2/search"), "_h_search"),
        ("GET", re.compile(r"/api/v2/search/count"), "_h_search_count"),
        ("GET", re.compile(r"/api/v2/users/search"), "_h_search_users"),
        ("POST", re.compile(r"/api/v2/users/create_or_update"), "_h_create_or_update_user"),
        ("POST", re.compile(r"/api/v2/users"), "_h_create_user"),
        ("GET", re.compile(r"/api/v2/users/me"), "_h_me"),
        ("GET", re.compile(r"/api/v2/users/show_many"), "_h_show_many_users"),
        ("GET", re.compile(r"/api/v2/users/(\d+)"), "_h_get_user"),
    ]

    def _dispatch(self, req: _Req) -> tuple[int, Any, dict[str, str]]:
        path = req.path[:-5] if req.path.endswith(".json") else req.path
        path = path.rstrip("/") or "/"
        for method, rx, name in self._ROUTES:
            m = rx.fullmatch(path)
            if m and (method == req.method or (req.method == "HEAD" and method == "GET")):
                result = getattr(self, name)(req, *m.groups())
                return result if len(result) == 3 else (result[0], result[1], {})
        if any(rx.fullmatch(path) for _, rx, _ in self._ROUTES):
            raise _ApiError(405, {"error": "MethodNotAllowed", "description": "Method not allowed"})
        raise _ApiError(404, {"error": "InvalidEndpoint", "description": "Not found"})

    def _ticket_or_404(self, ticket_id: str) -> _Ticket:
        ticket = self._tickets.get(int(ticket_id))
        if ticket is None:
            raise _ApiError(404, NOT_FOUND)
        return ticket

    # -- pagination ------------------------------------------------------------------------------
    def _paged(self, req: _Req, key: str, items: list[dict]) -> tuple[int, dict]:
        """Cursor pagination when page[size] is sent, else offset pagination (per_page/page)."""
        base = f"{req.base}{req.path}"
        other = [(k, v) for k, v in req.pairs if not k.startswith("page") and k != "per_page"]

        def link(params: list[tuple[str, str]]) -> str:
            return f"{base}?{urlencode(other + params)}"

        if "page[size]" in req.q:
            size = max(1, min(100, int(req.q["page[size]"] or 100)))
            start = 0
            if req.q.get("page[after]"):
                start = int(base64.urlsafe_b64decode(req.q["page[after]"].encode()).decode())
            chunk = items[start : start + size]
            more = start + size < len(items)
            after = base64.urlsafe_b64encode(str(start + size).encode()).decode() if more else None
            before = base64.urlsafe_b64encode(str(start).encode()).decode() if chunk and start else None
            return 200, {
                key: chunk,
                "meta": {"has_more": more, "after_cursor": after, "before_cursor": before},
                "links": {
                    "next": link([("page[size]", str(size)), ("page[after]", after)]) if more else None,
                    "prev": None,
                },
            }
        per_page = max(1, min(100, int(req.q.get("per_page") or 100)))
        page = max(1, int(req.q.get("page") or 1))
        start = (page - 1) * per_page
        chunk = items[start : start + per_page]
        more = start + per_page < len(items)
        return 200, {
            key: chunk,
            "next_page": link([("page", str(page + 1)), ("per_page", str(per_page))]) if more else None,
            "previous_page": link([("page", str(page - 1)), ("per_page", str(per_page))]) if page > 1 else None,
            "count": len(items),
        }

    # -- tickets -----------------------------------------------------------------------------------
    def _h_list_tickets(self, req: _Req) -> tuple:
        tickets = sorted(self._tickets.values(), key=lambda t: t.id)
        if "external_id" in req.q:
            tickets = [t for t in tickets if t.external_id == req.q["external_id"]]
        return self._paged(req, "tickets", [self._ticket_json(t, req.base) for t in tickets])

    def _h_show_many_tickets(self, req: _Req) -> tuple:
        ids = [int(i) for i in req.q.get("ids", "").split(",") if i.strip().isdigit()]
        found = [self._ticket_json(self._tickets[i], req.base) for i in ids if i in self._tickets]
        return 200, {"tickets": found, "next_page": None, "previous_page": None, "count": len(found)}

    def _h_get_ticket(self, req: _Req, ticket_id: str) -> tuple:
        return 200, {"ticket": self._ticket_json(self._ticket_or_404(ticket_id), req.base)}

    def _h_list_comments(self, req: _Req, ticket_id: str) -> tuple:
        ticket = self._ticket_or_404(ticket_id)
        comments = [self._comment_json(c) for c in ticket.comments]
        if req.q.get("sort_order") == "desc":
            comments.reverse()
        return self._paged(req, "comments", comments)

    def _requester_from(self, body: dict) -> _User | None:
        if body.get("requester_id") is not None:
            user = self._users.get(int(body["requester_id"]))
            if user is None:
                raise _invalid("requester", "Requester: is invalid")
            return user
        requester = body.get("requester")
        if isinstance(requester, dict):
            email = requester.get("email")
            if not email:
                raise _invalid("requester", "Requester: Email is invalid")
            return self._find_user(email) or self._new_user(email, requester.get("name"), "end-user", None)
        return None

    def _check_enum(self, body: dict, key: str, allowed: tuple[str, ...]) -> str | None:
        value = body.get(key)
        if value is None:
            return None
        if value not in allowed:
            raise _invalid(key, f"{key.capitalize()}: is invalid")
        return value

    def _h_create_ticket(self, req: _Req) -> tuple:
        key = req.headers.get("Idempotency-Key")
        if key:
            seen = self._idempotent.get(key)
            if seen is not None and self.clock() - seen[0] < IDEMPOTENCY_SECONDS:
                return seen[1], seen[2], {**seen[3], "x-idempotency-lookup": "hit"}
        status, data, headers = self._create_ticket(req)
        if key:
            self._idempotent[key] = (self.clock(), status, data, headers)
            headers = {**headers, "x-idempotency-lookup": "miss"}
        return status, data, headers

    def _create_ticket(self, req: _Req) -> tuple:
        body = req.json().get("ticket")
        if not isinstance(body, dict):
            raise _ApiError(400, {"error": "InvalidRequest", "description": "ticket parameter is missing"})
        comment = body.get("comment") if isinstance(body.get("comment"), dict) else {}
        text, html_body = comment.get("body"), comment.get("html_body")
        if not (text or html_body):
            text = body.get("description")
        if not (text or html_body):
            raise _invalid("description", "Description: cannot be blank", "BlankValue")
        status = self._check_enum(body, "status", STATUSES) or "new"
        priority = self._check_enum(body, "priority", PRIORITIES)
        ticket_type = self._check_enum(body, "type", TICKET_TYPES)
        requester = self._requester_from(body) or self._users[self.agent["id"]]
        submitter = requester
        if body.get("submitter_id") is not None:
            submitter = self._users.get(int(body["submitter_id"])) or requester
        now = self.clock()
        ticket = _Ticket(
            id=next(self._ticket_ids),
            subject=body.get("subject"),
            description="",
            status=status,
            requester_id=requester.id,
            submitter_id=submitter.id,
            created_at=now,
            updated_at=now,
            external_id=body.get("external_id"),
            priority=priority,
            type=ticket_type,
            assignee_id=body.get("assignee_id"),
            group_id=body.get("group_id"),
            organization_id=body.get("organization_id"),
            tags=_normalize_tags(body.get("tags")),
            custom_fields=list(body.get("custom_fields") or []),
            due_at=body.get("due_at"),
        )
        if ticket.status == "new" and ticket.assignee_id is not None and body.get("status") is None:
            ticket.status = "open"
        if ticket.status == "solved" and ticket.assignee_id is None:
            ticket.assignee_id = self._solver()
        audit_id = next(self._audit_ids)
        author = int(comment.get("author_id") or submitter.id)
        c = self._add_comment(ticket, author, text, html_body, bool(comment.get("public", True)), audit_id, now)
        ticket.description = c.body
        self._tickets[ticket.id] = ticket
        self._reindex(ticket)
        events = [{"type": "Comment", **self._comment_json(c)}]
        for name in ("subject", "status", "priority", "type", "requester_id", "tags", "external_id"):
            value = getattr(ticket, name)
            if value not in (None, []):
                events.append({"type": "Create", "field_name": name, "value": value})
        data = {
            "ticket": self._ticket_json(ticket, req.base),
            "audit": self._audit_json(audit_id, ticket, self.agent["id"], now, events),
        }
        return 201, data, {"Location": f"{req.base}/api/v2/tickets/{ticket.id}.json"}

    def _h_update_ticket(self, req: _Req, ticket_id: str) -> tuple:
        ticket = self._ticket_or_404(ticket_id)
        body = req.json().get("ticket")
        if not isinstance(body, dict):
            raise _ApiError(400, {"error": "InvalidRequest", "description": "ticket parameter is missing"})
        if ticket.status == "closed":
            raise _ApiError(422, CLOSED_ERROR)
        if body.get("safe_update") and body.get("updated_stamp") != _iso(ticket.updated_at):
            raise _ApiError(
                409,
                {
                    "error": "UpdateConflict",
                    "description": "Safe Update prevented the update due to outdated ticket data. "
                    "Please fetch the latest ticket data and try again.",
                },
            )
        now = self.clock()
        audit_id = next(self._audit_ids)
        events: list[dict] = []

        def change(name: str, new: Any) -> None:
            old = getattr(ticket, name)
            if new != old:
                setattr(ticket, name, new)
                events.append({"type": "Change", "field_name": name, "value": new, "previous_value": old})

        status = self._check_enum(body, "status", STATUSES)
        priority = self._check_enum(body, "priority", PRIORITIES)
        ticket_type = self._check_enum(body, "type", TICKET_TYPES)
        requester = self._requester_from(body)
        if status == "new" and ticket.status != "new":
            raise _invalid("status", f"Status: cannot be changed from {ticket.status.capitalize()} to New")
        solver = None
        if status == "solved" and body.get("assignee_id", ticket.assignee_id) is None:
            solver = self._solver()  # validated before anything changes
        if requester is not None:
            change("requester_id", requester.id)
        for name in ("subject", "external_id", "assignee_id", "group_id", "organization_id", "due_at"):
            if name in body:
                change(name, body[name])
        if "custom_fields" in body:
            change("custom_fields", list(body["custom_fields"] or []))
        if priority is not None:
            change("priority", priority)
        if ticket_type is not None:
            change("type", ticket_type)
        tags = list(ticket.tags)
        if "tags" in body:
            tags = _normalize_tags(body["tags"])
        for tag in _normalize_tags(body.get("additional_tags")):
            if tag not in tags:
                tags.append(tag)
        removed = set(_normalize_tags(body.get("remove_tags")))
        change("tags", [t for t in tags if t not in removed])
        if solver is not None:
            change("assignee_id", solver)
        if status is not None:
            change("status", status)
        elif ticket.status == "new" and ticket.assignee_id is not None:
            change("status", "open")
        comment = body.get("comment")
        if isinstance(comment, dict) and (comment.get("body") or comment.get("html_body")):
            author = int(comment.get("author_id") or self.agent["id"])
            c = self._add_comment(
                ticket,
                author,
                comment.get("body"),
                comment.get("html_body"),
                bool(comment.get("public", True)),
                audit_id,
                now,
            )
            events.insert(0, {"type": "Comment", **self._comment_json(c)})
        if events:
            ticket.updated_at = now
            self._reindex(ticket)
        return 200, {
            "ticket": self._ticket_json(ticket, req.base),
            "audit": self._audit_json(audit_id, ticket, self.agent["id"], now, events),
        }

    # -- search ------------------------------------------------------------------------------------
    @staticmethod
    def _terms(query: str) -> list[tuple[bool, str | None, str, str]]:
        """(negated, key, operator, value) for each term; key None for a bare word."""
        try:
            words = shlex.split(query)
        except ValueError:
            words = query.split()
        out = []
        for word in words:
            neg = word.startswith("-") and len(word) > 1
            if neg:
                word = word[1:]
            m = re.fullmatch(r"([a-z_]+)(:|<=|>=|<|>)(.*)", word)
            if m:
                out.append((neg, m.group(1), m.group(2), m.group(3).strip('"').lower()))
            else:
                out.append((neg, None, ":", word.strip('"').lower()))
        return out

    def _ticket_matches(self, snap: dict, key: str | None, op: str, value: str) -> bool:
        if key is None:
            return value in snap["_text"]
        if key == "type":
            return value == "ticket"
        if key == "status":
            if snap["status"] not in STATUSES or value not in STATUSES:
                return False
            have, want = STATUSES.index(snap["status"]), STATUSES.index(value)
            return {":": have == want, "<": have < want, ">": have > want, "<=": have <= want, ">=": have >= want}[op]
        if key in ("tags", "tag"):
            return value in snap["tags"]
        if key == "external_id":
            return (snap["external_id"] or "").lower() == value
        if key in ("priority", "ticket_type"):
            field_value = snap["priority"] if key == "priority" else snap["type"]
            return (field_value or "") == value
        if key == "subject":
            return value in (snap["subject"] or "").lower()
        if key == "requester":
            return snap["_requester"] == value or str(snap["requester_id"]) == value
        if key == "id":
            return str(snap["id"]) == value
        return False

    def _user_matches(self, u: _User, key: str | None, value: str) -> bool:
        if key is None:
            return value in (u.email or "").lower() or value in u.name.lower()
        if key == "type":
            return value == "user"
        if key == "email":
            return (u.email or "").lower() == value
        if key == "external_id":
            return (u.external_id or "").lower() == value
        if key == "role":
            return u.role == value
        if key == "name":
            return value in u.name.lower()
        return False

    def _search(self, req: _Req) -> list[dict]:
        query = req.q.get("query", "")
        terms = self._terms(query)
        types = {v for neg, k, _, v in terms if k == "type" and not neg}
        results: list[dict] = []
        if not types or "ticket" in types:
            for snap in self._searchable():
                if all(self._ticket_matches(snap, k, op, v) != neg for neg, k, op, v in terms):
                    clean = {k: v for k, v in snap.items() if not k.startswith("_")}
                    clean["url"] = f"{req.base}/api/v2/tickets/{clean['id']}.json"
                    results.append({**clean, "result_type": "ticket"})
        if not types or "user" in types:
            for u in sorted(self._users.values(), key=lambda u: u.id):
                if all(self._user_matches(u, k, v) != neg for neg, k, _, v in terms):
                    results.append({**self._user_json(u, req.base), "result_type": "user"})
        return results

    def _h_search(self, req: _Req) -> tuple:
        if not req.q.get("query", "").strip():
            raise _ApiError(400, {"error": "unavailable", "description": "Sorry, we could not complete your search"})
        status, data = self._paged(req, "results", self._search(req))
        data["facets"] = None
        return status, data

    def _h_search_count(self, req: _Req) -> tuple:
        return 200, {"count": len(self._search(req))}

    # -- users -----------------------------------------------------------------------------------
    def _h_search_users(self, req: _Req) -> tuple:
        users = sorted(self._users.values(), key=lambda u: u.id)
        if "external_id" in req.q:
            users = [u for u in users if u.external_id == req.q["external_id"]]
        else:
            query = req.q.get("query", "").strip().lower()
            if not query:
                raise _ApiError(400, {"error": "InvalidParameter", "description": "query or external_id is required"})
            if "@" in query and " " not in query:
                users = [u for u in users if (u.email or "").lower() == query]
            else:
                users = [u for u in users if query in u.name.lower() or query in (u.email or "").lower()]
        return self._paged(req, "users", [self._user_json(u, req.base) for u in users])

    def _user_body(self, req: _Req) -> dict:
        body = req.json().get("user")
        if not isinstance(body, dict):
            raise _ApiError(400, {"error": "InvalidRequest", "description": "user parameter is missing"})
        return body

    def _apply_user(self, user: _User, body: dict) -> None:
        for key in ("name", "phone", "organization_id", "external_id"):
            if body.get(key) is not None:
                setattr(user, key, body[key])
        if body.get("role") in ("end-user", "agent", "admin"):
            user.role = body["role"]
        if "tags" in body:
            user.tags = _normalize_tags(body["tags"])
        if "verified" in body:
            user.verified = bool(body["verified"])
        user.updated_at = self.clock()

    def _h_create_or_update_user(self, req: _Req) -> tuple:
        body = self._user_body(req)
        user = self._find_user(body.get("email"))
        if user is None and body.get("external_id"):
            user = next((u for u in self._users.values() if u.external_id == body["external_id"]), None)
        if user is not None:
            self._apply_user(user, body)
            return 200, {"user": self._user_json(user, req.base)}
        if not body.get("name"):
            raise _invalid("name", "Name: is too short (minimum one character)", "BlankValue")
        user = self._new_user(body.get("email"), body["name"], "end-user", None)
        self._apply_user(user, body)
        return 201, {"user": self._user_json(user, req.base)}, {"Location": _user_url(req.base, user.id)}

    def _h_create_user(self, req: _Req) -> tuple:
        body = self._user_body(req)
        if not body.get("name"):
            raise _invalid("name", "Name: is too short (minimum one character)", "BlankValue")
        email = body.get("email")
        if email and self._find_user(email) is not None:
            raise _invalid("email", f"Email: {email} is already being used by another user", "DuplicateValue")
        user = self._new_user(email, body["name"], "end-user", None)
        self._apply_user(user, body)
        return 201, {"user": self._user_json(user, req.base)}, {"Location": _user_url(req.base, user.id)}

    def _h_me(self, req: _Req) -> tuple:
        return 200, {"user": self._user_json(self._users[self.agent["id"]], req.base)}

    def _h_show_many_users(self, req: _Req) -> tuple:
        ids = [int(i) for i in req.q.get("ids", "").split(",") if i.strip().isdigit()]
        found = [self._user_json(self._users[i], req.base) for i in ids if i in self._users]
        return 200, {"users": found, "next_page": None, "previous_page": None, "count": len(found)}

    def _h_get_user(self, req: _Req, user_id: str) -> tuple:
        user = self._users.get(int(user_id))
        if user is None:
            raise _ApiError(404, NOT_FOUND)
        return 200, {"user": self._user_json(user, req.base)}


def _user_url(base: str, user_id: int) -> str:
    return f"{base}/api/v2/users/{user_id}.json"
