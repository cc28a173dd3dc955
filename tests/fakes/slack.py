"""A stateful fake of Slack for end-to-end tests of the orcoursetrion bot.

It plays both sides of Slack:

* the **Web API** (``POST``/``GET`` ``/api/{method}``) that the app's real
  ``slack_sdk.WebClient`` talks to (``WebClient(base_url=fake.api_url)``), with
  state (channels, messages, threads, edits, ephemerals, modals, App Home) and
  Slack's rules enforced (auth, scopes, channel membership, Block Kit limits,
  trigger expiry, response_url limits, optional rate limits);
* the **Slack client side**: it builds and signs slash-command, interactivity
  and Events API requests exactly as Slack sends them, POSTs them to
  ``fake.app_url`` and applies the app's synchronous response (ack bodies,
  ``response_action`` for modals, 3-second deadline).

Only the standard library is used.  Every rule violation that the fake answers
with (an ``ok: false`` answer, a rejected ack, a late ack, ...) is appended to
``fake.errors`` so that tests can assert it stays empty.

Typical use::

    with FakeSlack() as slack:
        slack.add_user("U123", name="alice", email="alice@mit.edu")
        slack.add_channel("C123", name="course-ops", members=["U123"])
        app_client = WebClient(base_url=slack.api_url, token=slack.bot_token)
        ...start the app (Bolt over HTTP) with app_client...
        slack.app_url = "http://127.0.0.1:PORT/slack/events"
        slack.command("/orc", "rerun 8.01r Fall_2030", user="U123", channel="C123")
        msg = slack.wait_for(lambda: slack.last_message("C123"))
        slack.click("C123", msg.ts, "approve", "U123")
        view = slack.wait_for(lambda: slack.top_view("U123"))
        slack.submit_view(view.id, "U123", {"course": "8.01r", "term": "Fall_2030"})
        slack.assert_no_errors()

**Socket Mode** (Slack's WebSocket transport instead of a public Request URL) is
played too, as https://docs.slack.dev/apis/events-api/using-socket-mode describes it:

* ``apps.connections.open`` takes the app-level token (``FakeSlack(app_token=...)``,
  default ``"xapp-test"``) in the ``Authorization`` header and answers
  ``{"ok": true, "url": "ws://HOST:PORT/link/?ticket=...&app_id=..."}``, a one-use URL.
  A bot or user token there is ``not_allowed_token_type``, another app token (or the
  token only as a POST parameter) ``invalid_auth``; the app-level token on any other
  method is ``not_allowed_token_type``.
* ``/link/`` is a WebSocket endpoint (RFC 6455 handshake and framing, stdlib only) on
  the fake's port: it greets each connection with ``hello`` (``num_connections``,
  ``debug_info``, ``connection_info.app_id``), answers pings, allows 10 connections
  (the 11th gets ``disconnect`` / ``too_many_websockets``), and records protocol
  errors, reused tickets and unknown or duplicate acks in ``errors``.
* With ``fake.transport = "socket"`` (default ``"http"``) every client-side helper
  (``command``, ``click*``, ``submit_view``, ``close_view``, ``event``, ``open_home``,
  ``user_message``) sends the same payload it would POST, wrapped in an envelope
  ``{"envelope_id", "payload", "type": "slash_commands"|"interactive"|"events_api",
  "accepts_response_payload"}`` (events also carry ``"retry_attempt": 0,
  "retry_reason": ""``; ``retry_num`` sets them), to one of the app's connections
  (round robin), waits for the ack ``{"envelope_id", "payload"}`` (on any connection,
  up to ``app_timeout``) and applies the ack payload exactly like an HTTP ack body:
  same ``AppResponse`` (status 200, ``body`` = the ack payload as JSON, ``.envelope``,
  ``.connection``), same 3-second deadline (``operation_timeout`` / ``http_timeout``
  in ``errors``), ``dispatch_failed`` when the app has no connection.  Slash command
  payloads are a JSON object of the same (string) fields the form would carry.
  ``url_verification``/``send_raw`` have no Socket Mode form and raise, as do the
  signing arguments (``sign``, ``secret``, ``timestamp``).
* ``wait_socket_connected(timeout, exclude=ids)`` waits for a connection that gets
  payloads and returns its id; ``socket_connections`` lists the open ones (``sockets``
  keeps every :class:`SocketConnection` with what it received);
  ``socket_disconnect(reason="refresh_requested")`` sends Slack's ``disconnect``
  message (no more payloads there; the fake closes it after ``close_after`` seconds
  unless the app does), ``socket_close()`` closes from Slack's side, ``socket_ping()``
  checks the app answers pings, ``socket_send_raw(text)`` sends any frame.

Configuring an app under test for Socket Mode: slack_bolt's ``SocketModeHandler(app,
app_token)`` (builtin client) gets its WebSocket URL from ``apps.connections.open``
called on the **app's own client** (``app.client``, unless ``web_client=`` is given),
so the Web API base URL that the app's ``WebClient`` uses is the one to point at the
fake: ``App(client=WebClient(base_url=fake.api_url, token=fake.bot_token))`` and
``SocketModeHandler(app, fake.app_token)``.  For this project's app (``python app.py``
or ``bot.runtime.build``): ``SLACK_API_URL=fake.api_url``,
``SLACK_BOT_TOKEN=fake.bot_token``, ``SLACK_APP_TOKEN=fake.app_token`` (no
``SLACK_SIGNING_SECRET``; Socket Mode payloads are not signed).  The URL is ``ws://``
on a port other than 443, which slack_sdk's builtin client opens without TLS; leave
``HTTPS_PROXY``/``HTTP_PROXY`` unset, as slack_sdk would tunnel the socket through a
proxy (with TLS) and ignores ``NO_PROXY``.  Then ``fake.wait_socket_connected()``
and ``fake.transport = "socket"``.  Two slack_bolt behaviours show through: with its
default listener runner (``process_before_response=False``) a listener that has not
acked after 3 s gets no ack sent at all (the fake reports it after ``app_timeout``;
lower it to keep such a test short), and slack_bolt turns every events_api
envelope's ``retry_attempt`` into an ``x-slack-retry-num`` header, ``"0"`` on a first
delivery.  slack_sdk's builtin client notices a closed connection only when its 3 s
receive timeout or 10 s ping monitor fires, so closes and refreshes take seconds.

**Fault injection**: a test can make Slack slow or failing and tell those answers from
the app's own mistakes.  Injected answers go to ``fake.injected`` (:class:`Injected`:
``(method, error, time)`` with ``.status``, ``.args``, ``.source``), never to ``errors``,
and the call's ``Call.injected`` points at that record.  Faults are matched when a call
arrives, before authentication, in the order they were added (first match wins); method
``"*"`` matches every Web API method:

* ``delay(method, seconds, times=None, *, when=None, apply_first=False)``: answer after
  ``seconds`` of real time; the handler sleeps without the fake's lock, so other calls go
  on.  The call takes effect after the sleep, or at once with ``apply_first=True`` (only
  the answer is late).
* ``fail(method, error, times=1, *, status=None, headers=None, when=None)``: answer
  ``{"ok": false, "error": error}`` and change nothing.  HTTP 429 with ``Retry-After: 1``
  (or ``headers``'s) for ``ratelimited`` (https://docs.slack.dev/apis/web-api/rate-limits:
  over a limit Slack answers "HTTP 429 Too Many Requests" with a ``Retry-After`` header
  giving the seconds to wait); HTTP 200 for every other error code,
  ``fatal_error``/``internal_error``/``service_unavailable`` included: Slack's method
  references list them as ordinary ``error`` codes of the JSON answer, and slack_sdk's
  maintainers answer ``fatal_error`` with 200 in their tests (python-slack-sdk #1333:
  "Slack's Web APIs can return a 200 OK response even when the response is an error").
  ``status=`` overrides.  ``rate_limit(method, retry_after=1, times=None)`` is a sustained
  429.
* ``server_error(method, status=500, times=1, *, when=None)``: what Slack answers when it
  is down, a 5xx with an HTML page and no JSON (slack-ruby-client #358); slack_sdk's
  ``ServerErrorRetryHandler`` retries 5xx.
* channel states: ``archive_channel(id)`` (chat.postMessage / chat.postEphemeral answer
  ``is_archived``, chat.update ``is_inactive``), ``unarchive_channel(id)``,
  ``delete_channel(id)`` (``channel_not_found`` everywhere) and
  ``set_bot_member(id, False, injected=True)`` (the bot kicked mid-run:
  ``channel_not_found`` in a private channel, ``not_in_channel`` for posting in a public
  one without ``chat:write.public``).  Without ``injected=True``, and for channels that
  ``add_channel`` created archived or without the bot, such refusals stay rule
  violations in ``errors``.
* ``clear_faults()`` drops pending fail/delay rules; ``call_times(method)`` gives the
  arrival time of each call (to measure, say, how often the app edits a message).

Beyond the rules, a few helpers: ``advance(seconds)`` moves the fake's clock
(trigger / response_url expiry, rate-limit windows) without sleeping,
``issue_trigger(user)`` mints a trigger_id, ``user_message(...)`` posts as a
human and delivers the ``message`` event, ``click_view(view_id, ...)`` clicks
inside a modal, ``dm(user)`` is the bot's DM channel id, ``warnings`` holds
non-fatal findings (blocks without a fallback ``text``), ``orphans`` holds replies
posted to a thread_ts that matches no message.
"""

from __future__ import annotations

import base64
import concurrent.futures
import copy
import datetime as _dt
import hashlib
import hmac
import inspect
import json
import logging
import random
import re
import secrets
import socket
import string
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = [
    "AppResponse",
    "BlockKitValidator",
    "Call",
    "Channel",
    "Ephemeral",
    "FakeSlack",
    "Injected",
    "Message",
    "ResponsePost",
    "SocketConnection",
    "View",
    "Violation",
]

log = logging.getLogger("tests.fakes.slack")

# --------------------------------------------------------------------------------------
# Limits (Slack Block Kit / Web API reference)
# --------------------------------------------------------------------------------------
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40000
MAX_BLOCK_ID = 255
MAX_ACTION_ID = 255
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTION_DESCRIPTION = 75
MAX_SELECT_OPTIONS = 100
MAX_OPTION_GROUPS = 100
MAX_OPTION_GROUP_LABEL = 75
MAX_OVERFLOW_OPTIONS = 5
MAX_CHECKBOX_OPTIONS = 10
MAX_RADIO_OPTIONS = 10
MAX_PLACEHOLDER = 150
MAX_INPUT_LABEL = 2000
MAX_INPUT_HINT = 2000
MAX_TEXT_INPUT_LENGTH = 3000
MAX_IMAGE_ALT_TEXT = 2000
MAX_IMAGE_TITLE = 2000
MAX_MARKDOWN_BLOCK_TEXT = 12000
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_PRIVATE_METADATA = 3000
MAX_CALLBACK_ID = 255
MAX_EXTERNAL_ID = 255
MAX_VIEW_STACK = 3

TRIGGER_TTL = 3.0  # seconds a trigger_id can be exchanged
ACK_DEADLINE = 3.0  # seconds Slack waits for the app's HTTP response
RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_MAX_USES = 5
SOCKET_MAX_CONNECTIONS = 10  # open Socket Mode connections Slack allows an app
SOCKET_CONNECTION_TIME = 18060  # approximate_connection_time in Slack's hello (seconds)
SOCKET_DEBUG_CONNECTION_TIME = 360  # ... when the URL has &debug_reconnects=true
SOCKET_MAX_MESSAGE = 16 * 1024 * 1024  # the fake's cap on one WebSocket message from the app

# --------------------------------------------------------------------------------------
# Block Kit element catalogue
# --------------------------------------------------------------------------------------
_COMMON_INPUT_KEYS = {"type", "action_id", "focus_on_load", "placeholder"}
_ELEMENT_KEYS: dict[str, set[str]] = {
    "button": {"type", "text", "action_id", "url", "value", "style", "confirm", "accessibility_label"},
    "checkboxes": {"type", "action_id", "options", "initial_options", "confirm", "focus_on_load"},
    "radio_buttons": {"type", "action_id", "options", "initial_option", "confirm", "focus_on_load"},
    "datepicker": _COMMON_INPUT_KEYS | {"initial_date", "confirm"},
    "timepicker": _COMMON_INPUT_KEYS | {"initial_time", "confirm", "timezone"},
    "datetimepicker": {"type", "action_id", "initial_date_time", "confirm", "focus_on_load"},
    "plain_text_input": _COMMON_INPUT_KEYS
    | {"initial_value", "multiline", "min_length", "max_length", "dispatch_action_config"},
    "email_text_input": _COMMON_INPUT_KEYS | {"initial_value", "dispatch_action_config"},
    "url_text_input": _COMMON_INPUT_KEYS | {"initial_value", "dispatch_action_config"},
    "number_input": _COMMON_INPUT_KEYS
    | {"is_decimal_allowed", "initial_value", "min_value", "max_value", "dispatch_action_config"},
    "rich_text_input": _COMMON_INPUT_KEYS | {"initial_value", "dispatch_action_config"},
    "file_input": {"type", "action_id", "filetypes", "max_files"},
    "static_select": _COMMON_INPUT_KEYS | {"options", "option_groups", "initial_option", "confirm"},
    "external_select": _COMMON_INPUT_KEYS | {"initial_option", "min_query_length", "confirm"},
    "users_select": _COMMON_INPUT_KEYS | {"initial_user", "confirm"},
    "conversations_select": _COMMON_INPUT_KEYS
    | {"initial_conversation", "default_to_current_conversation", "confirm", "response_url_enabled", "filter"},
    "channels_select": _COMMON_INPUT_KEYS | {"initial_channel", "confirm", "response_url_enabled"},
    "multi_static_select": _COMMON_INPUT_KEYS
    | {"options", "option_groups", "initial_options", "confirm", "max_selected_items"},
    "multi_external_select": _COMMON_INPUT_KEYS
    | {"initial_options", "min_query_length", "confirm", "max_selected_items"},
    "multi_users_select": _COMMON_INPUT_KEYS | {"initial_users", "confirm", "max_selected_items"},
    "multi_conversations_select": _COMMON_INPUT_KEYS
    | {"initial_conversations", "default_to_current_conversation", "confirm", "max_selected_items", "filter"},
    "multi_channels_select": _COMMON_INPUT_KEYS | {"initial_channels", "confirm", "max_selected_items"},
    "overflow": {"type", "action_id", "options", "confirm"},
    "workflow_button": {"type", "text", "workflow", "action_id", "style", "accessibility_label"},
    "image": {"type", "alt_text", "image_url", "slack_file"},
}
_SELECTS = {"static_select", "external_select", "users_select", "conversations_select", "channels_select"}
_MULTI_SELECTS = {"multi_" + s for s in _SELECTS}
SECTION_ACCESSORIES = (
    {"button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons", "timepicker", "workflow_button"}
    | _SELECTS
    | _MULTI_SELECTS
)
ACTIONS_ELEMENTS = (
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
        "rich_text_input",
    }
    | _SELECTS
    | _MULTI_SELECTS
)
INPUT_ELEMENTS = (
    {
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "file_input",
        "number_input",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "timepicker",
        "url_text_input",
    }
    | _SELECTS
    | _MULTI_SELECTS
)
_BLOCK_KEYS: dict[str, set[str]] = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "divider": {"type", "block_id"},
    "header": {"type", "block_id", "text"},
    "context": {"type", "block_id", "elements"},
    "actions": {"type", "block_id", "elements"},
    "image": {"type", "block_id", "image_url", "slack_file", "alt_text", "title"},
    "input": {"type", "block_id", "label", "element", "dispatch_action", "hint", "optional"},
    "file": {"type", "block_id", "external_id", "source"},
    "video": {
        "type",
        "block_id",
        "alt_text",
        "author_name",
        "description",
        "provider_icon_url",
        "provider_name",
        "title",
        "title_url",
        "thumbnail_url",
        "video_url",
    },
    "rich_text": {"type", "block_id", "elements"},
    "markdown": {"type", "block_id", "text"},
    "table": {"type", "block_id", "rows", "column_settings"},
    "context_actions": {"type", "block_id", "elements"},
}
_MESSAGE_ONLY_BLOCKS = {"file", "markdown", "table", "context_actions"}
_VIEW_KEYS = {
    "type",
    "title",
    "blocks",
    "close",
    "submit",
    "private_metadata",
    "callback_id",
    "clear_on_close",
    "notify_on_close",
    "external_id",
    "submit_disabled",
}
_ID_ALPHABET = string.ascii_letters + string.digits
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

_SCOPES_FOR_METHOD = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.scheduleMessage": "chat:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
}


_APP_LEVEL_METHODS = {"apps.connections.open"}  # methods that take the app-level token
# Socket Mode envelope per kind of delivery: (type, accepts_response_payload)
_SOCKET_ENVELOPES = {
    "command": ("slash_commands", True),
    "block_actions": ("interactive", True),
    "view_submission": ("interactive", True),
    "view_closed": ("interactive", False),
    "event": ("events_api", False),
}


def _rand_id(prefix: str, n: int = 10) -> str:
    return prefix + "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def _short_id(n: int = 4) -> str:
    return "".join(random.choice(_ID_ALPHABET) for _ in range(n))


def _as_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


# --------------------------------------------------------------------------------------
# Block Kit validation
# --------------------------------------------------------------------------------------
class BlockKitValidator:
    """Validates Block Kit payloads the way Slack's API does.

    ``surface`` is ``"message"``, ``"modal"`` or ``"home"``.  Errors are strings in
    Slack's own format: ``"[ERROR] must be less than 3001 characters
    [json-pointer:/blocks/0/text/text]"``.

    ``action_id_scope`` is ``"surface"`` (default: an action_id must be unique in the
    whole message/view, the project's stricter rule) or ``"block"`` (Slack's
    documented rule: unique among the elements of one block).
    """

    def __init__(self, surface: str = "message", action_id_scope: str = "surface"):
        self.surface = surface
        self.action_id_scope = action_id_scope
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self._block_ids: dict[str, str] = {}
        self._action_ids: dict[str, str] = {}
        self._block_action_ids: dict[str, str] = {}
        self._markdown_total = 0

    # -- helpers ------------------------------------------------------------------
    def error(self, ptr: str, msg: str) -> None:
        self.errors.append(f"[ERROR] {msg} [json-pointer:{ptr}]")

    def _keys(self, obj: dict, allowed: set[str], ptr: str) -> None:
        for key in obj:
            if key not in allowed:
                self.error(ptr, f"invalid additional property: {key}")

    def _str(
        self, obj: dict, key: str, ptr: str, max_len: int, *, required: bool = False, min_len: int = 1
    ) -> str | None:
        if key not in obj or obj[key] is None:
            if required:
                self.error(ptr, f"missing required field: {key}")
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.error(f"{ptr}/{key}", "must provide a string")
            return None
        if len(value) < min_len:
            self.error(f"{ptr}/{key}", f"must be more than {min_len - 1} characters")
        elif len(value) > max_len:
            self.error(f"{ptr}/{key}", f"must be less than {max_len + 1} characters")
        return value

    def text(
        self,
        obj: Any,
        ptr: str,
        max_len: int,
        *,
        plain: bool = False,
        required: bool = True,
        parent: dict | None = None,
        key: str | None = None,
    ) -> None:
        """Validate a text composition object."""
        if obj is None:
            if required:
                base = ptr.rsplit("/", 1)[0]
                self.error(base, f"missing required field: {ptr.rsplit('/', 1)[1]}")
            return
        if not isinstance(obj, dict):
            self.error(ptr, "must provide an object")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.error(f"{ptr}/type", "must be one of: plain_text, mrkdwn")
            return
        if plain and kind != "plain_text":
            self.error(f"{ptr}/type", "must be plain_text (mrkdwn is not allowed here)")
        allowed = {"type", "text", "emoji"} if kind == "plain_text" else {"type", "text", "verbatim"}
        self._keys(obj, allowed, ptr)
        self._str(obj, "text", ptr, max_len, required=True)

    def _id(self, obj: dict, key: str, ptr: str, max_len: int) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(f"{ptr}/{key}", "must provide a string")
            return None
        if not value:
            self.error(f"{ptr}/{key}", "must be more than 0 characters")
        if len(value) > max_len:
            self.error(f"{ptr}/{key}", f"must be less than {max_len + 1} characters")
        return value

    def _url(self, obj: dict, key: str, ptr: str, required: bool = False) -> None:
        value = self._str(obj, key, ptr, MAX_URL, required=required)
        if value is not None and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value):
            self.error(f"{ptr}/{key}", "must be a valid URL")

    def _list(self, obj: dict, key: str, ptr: str, max_items: int, min_items: int = 1, required=True):
        value = obj.get(key)
        if value is None:
            if required:
                self.error(ptr, f"missing required field: {key}")
            return []
        if not isinstance(value, list):
            self.error(f"{ptr}/{key}", "must provide an array")
            return []
        if len(value) < min_items:
            self.error(f"{ptr}/{key}", f"must provide at least {min_items} items")
        if len(value) > max_items:
            self.error(f"{ptr}/{key}", f"no more than {max_items} items allowed")
        return value

    # -- surfaces -----------------------------------------------------------------
    def blocks(self, blocks: Any, ptr: str = "/blocks") -> None:
        limit = MAX_MESSAGE_BLOCKS if self.surface == "message" else MAX_VIEW_BLOCKS
        if not isinstance(blocks, list):
            self.error(ptr, "must provide an array")
            return
        if len(blocks) > limit:
            self.error(ptr, f"no more than {limit} items allowed")
        for i, block in enumerate(blocks):
            self.block(block, f"{ptr}/{i}")

    def view(self, view: Any, ptr: str = "/view") -> None:
        if not isinstance(view, dict):
            self.error(ptr, "must provide an object")
            return
        kind = view.get("type")
        if kind not in ("modal", "home"):
            self.error(f"{ptr}/type", "must be one of: modal, home")
            return
        self.surface = kind
        for key in view:
            if key not in _VIEW_KEYS:
                self.error(ptr, f"invalid additional property: {key}")
        if kind == "modal":
            self.text(view.get("title"), f"{ptr}/title", MAX_VIEW_TITLE, plain=True)
            self.text(view.get("close"), f"{ptr}/close", MAX_VIEW_BUTTON, plain=True, required=False)
            self.text(view.get("submit"), f"{ptr}/submit", MAX_VIEW_BUTTON, plain=True, required=False)
        else:
            for key in ("submit", "close", "title"):
                if key in view and key != "title":
                    self.error(ptr, f"invalid additional property: {key}")
        self._str(view, "private_metadata", ptr, MAX_PRIVATE_METADATA, min_len=0)
        self._str(view, "callback_id", ptr, MAX_CALLBACK_ID, min_len=0)
        self._str(view, "external_id", ptr, MAX_EXTERNAL_ID, min_len=0)
        for key in ("clear_on_close", "notify_on_close", "submit_disabled"):
            if key in view and not isinstance(view[key], bool):
                self.error(f"{ptr}/{key}", "must provide a boolean")
        if "blocks" not in view:
            self.error(ptr, "missing required field: blocks")
            return
        self.blocks(view["blocks"], f"{ptr}/blocks")
        if (
            kind == "modal"
            and isinstance(view["blocks"], list)
            and any(isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"])
            and not view.get("submit")
        ):
            self.error(f"{ptr}", "missing required field: submit (a view with input blocks requires submit)")

    # -- blocks -------------------------------------------------------------------
    def block(self, block: Any, ptr: str) -> None:
        if not isinstance(block, dict):
            self.error(ptr, "must provide an object")
            return
        kind = block.get("type")
        if kind not in _BLOCK_KEYS:
            self.error(f"{ptr}/type", f"unsupported type: {kind}")
            return
        if kind in _MESSAGE_ONLY_BLOCKS and self.surface != "message":
            self.error(f"{ptr}/type", f"unsupported type in a {self.surface}: {kind}")
        self._keys(block, _BLOCK_KEYS[kind], ptr)
        block_id = self._id(block, "block_id", ptr, MAX_BLOCK_ID)
        if block_id:
            if block_id in self._block_ids:
                self.error(
                    f"{ptr}/block_id",
                    f"duplicate block_id: {block_id!r} is already used at {self._block_ids[block_id]}",
                )
            else:
                self._block_ids[block_id] = ptr
        self._block_action_ids = {}
        getattr(self, "_block_" + kind)(block, ptr)

    def _block_section(self, b: dict, ptr: str) -> None:
        if b.get("text") is None and b.get("fields") is None:
            self.error(ptr, "must provide either text or fields")
        if b.get("text") is not None:
            self.text(b["text"], f"{ptr}/text", MAX_SECTION_TEXT)
        if b.get("fields") is not None:
            fields = self._list(b, "fields", ptr, MAX_SECTION_FIELDS)
            for i, f in enumerate(fields):
                self.text(f, f"{ptr}/fields/{i}", MAX_SECTION_FIELD_TEXT)
        if b.get("accessory") is not None:
            self.element(b["accessory"], f"{ptr}/accessory", SECTION_ACCESSORIES)
        if "expand" in b and not isinstance(b["expand"], bool):
            self.error(f"{ptr}/expand", "must provide a boolean")

    def _block_divider(self, b: dict, ptr: str) -> None:
        pass

    def _block_header(self, b: dict, ptr: str) -> None:
        self.text(b.get("text"), f"{ptr}/text", MAX_HEADER_TEXT, plain=True)

    def _block_context(self, b: dict, ptr: str) -> None:
        for i, el in enumerate(self._list(b, "elements", ptr, MAX_CONTEXT_ELEMENTS)):
            eptr = f"{ptr}/elements/{i}"
            if isinstance(el, dict) and el.get("type") == "image":
                self.element(el, eptr, {"image"})
            else:
                self.text(el, eptr, MAX_SECTION_TEXT)

    def _block_actions(self, b: dict, ptr: str) -> None:
        for i, el in enumerate(self._list(b, "elements", ptr, MAX_ACTIONS_ELEMENTS)):
            self.element(el, f"{ptr}/elements/{i}", ACTIONS_ELEMENTS)

    def _block_context_actions(self, b: dict, ptr: str) -> None:
        for i, el in enumerate(self._list(b, "elements", ptr, 5)):
            if not isinstance(el, dict):
                self.error(f"{ptr}/elements/{i}", "must provide an object")

    def _block_image(self, b: dict, ptr: str) -> None:
        if b.get("image_url") is None and b.get("slack_file") is None:
            self.error(ptr, "missing required field: image_url")
        if b.get("image_url") is not None:
            self._url(b, "image_url", ptr)
        self._str(b, "alt_text", ptr, MAX_IMAGE_ALT_TEXT, required=True)
        self.text(b.get("title"), f"{ptr}/title", MAX_IMAGE_TITLE, plain=True, required=False)

    def _block_input(self, b: dict, ptr: str) -> None:
        self.text(b.get("label"), f"{ptr}/label", MAX_INPUT_LABEL, plain=True)
        self.text(b.get("hint"), f"{ptr}/hint", MAX_INPUT_HINT, plain=True, required=False)
        for key in ("optional", "dispatch_action"):
            if key in b and not isinstance(b[key], bool):
                self.error(f"{ptr}/{key}", "must provide a boolean")
        if b.get("element") is None:
            self.error(ptr, "missing required field: element")
        else:
            self.element(b["element"], f"{ptr}/element", INPUT_ELEMENTS)

    def _block_file(self, b: dict, ptr: str) -> None:
        self._str(b, "external_id", ptr, 255, required=True)
        if b.get("source") != "remote":
            self.error(f"{ptr}/source", "must be remote")

    def _block_video(self, b: dict, ptr: str) -> None:
        self._str(b, "alt_text", ptr, MAX_IMAGE_ALT_TEXT, required=True)
        self.text(b.get("title"), f"{ptr}/title", 200, plain=True)
        self._url(b, "thumbnail_url", ptr, required=True)
        self._url(b, "video_url", ptr, required=True)

    def _block_rich_text(self, b: dict, ptr: str) -> None:
        for i, el in enumerate(self._list(b, "elements", ptr, 1000, min_items=0)):
            if not isinstance(el, dict) or not str(el.get("type", "")).startswith("rich_text_"):
                self.error(f"{ptr}/elements/{i}", "must be a rich_text element")

    def _block_markdown(self, b: dict, ptr: str) -> None:
        value = self._str(b, "text", ptr, MAX_MARKDOWN_BLOCK_TEXT, required=True)
        if value:
            self._markdown_total += len(value)
            if self._markdown_total > MAX_MARKDOWN_BLOCK_TEXT:
                self.error(
                    f"{ptr}/text",
                    f"the cumulative text of markdown blocks must be less than {MAX_MARKDOWN_BLOCK_TEXT + 1} characters",
                )

    def _block_table(self, b: dict, ptr: str) -> None:
        self._list(b, "rows", ptr, 100)

    # -- elements -----------------------------------------------------------------
    def element(self, el: Any, ptr: str, allowed: set[str]) -> None:
        if not isinstance(el, dict):
            self.error(ptr, "must provide an object")
            return
        kind = el.get("type")
        if kind not in _ELEMENT_KEYS:
            self.error(f"{ptr}/type", f"unsupported element type: {kind}")
            return
        if kind not in allowed:
            self.error(f"{ptr}/type", f"element type {kind} is not allowed here")
            return
        self._keys(el, _ELEMENT_KEYS[kind], ptr)
        action_id = self._id(el, "action_id", ptr, MAX_ACTION_ID)
        if action_id:
            seen = self._action_ids if self.action_id_scope == "surface" else self._block_action_ids
            if action_id in seen:
                self.error(
                    f"{ptr}/action_id", f"duplicate action_id: {action_id!r} is already used at {seen[action_id]}"
                )
            else:
                seen[action_id] = ptr
                self._block_action_ids[action_id] = ptr
                self._action_ids.setdefault(action_id, ptr)
        if el.get("confirm") is not None:
            self.confirm(el["confirm"], f"{ptr}/confirm")
        if "placeholder" in el:
            self.text(el["placeholder"], f"{ptr}/placeholder", MAX_PLACEHOLDER, plain=True)
        if "focus_on_load" in el and not isinstance(el["focus_on_load"], bool):
            self.error(f"{ptr}/focus_on_load", "must provide a boolean")
        handler = getattr(self, "_el_" + kind, None)
        if handler is not None:
            handler(el, ptr)

    def _style(self, el: dict, ptr: str) -> None:
        if "style" in el and el["style"] not in ("primary", "danger"):
            self.error(f"{ptr}/style", "must be one of: primary, danger")

    def _el_button(self, el: dict, ptr: str) -> None:
        self.text(el.get("text"), f"{ptr}/text", MAX_BUTTON_TEXT, plain=True)
        self._str(el, "value", ptr, MAX_BUTTON_VALUE)
        if "url" in el:
            self._url(el, "url", ptr)
        self._str(el, "accessibility_label", ptr, MAX_BUTTON_TEXT)
        self._style(el, ptr)

    def _el_workflow_button(self, el: dict, ptr: str) -> None:
        self.text(el.get("text"), f"{ptr}/text", MAX_BUTTON_TEXT, plain=True)
        if not isinstance(el.get("workflow"), dict):
            self.error(ptr, "missing required field: workflow")
        self._style(el, ptr)

    def _el_image(self, el: dict, ptr: str) -> None:
        if el.get("image_url") is None and el.get("slack_file") is None:
            self.error(ptr, "missing required field: image_url")
        if el.get("image_url") is not None:
            self._url(el, "image_url", ptr)
        self._str(el, "alt_text", ptr, MAX_IMAGE_ALT_TEXT, required=True)

    def _options(self, el, ptr, key, max_items, *, plain=True, allow_url=False, required=True):
        opts = self._list(el, key, ptr, max_items, required=required)
        for i, opt in enumerate(opts):
            self.option(opt, f"{ptr}/{key}/{i}", plain=plain, allow_url=allow_url)
        return [o for o in opts if isinstance(o, dict)]

    def _initial_options(self, el, ptr, options, key, multi):
        if key not in el or el[key] is None:
            return
        initial = el[key] if multi else [el[key]]
        if multi and not isinstance(initial, list):
            self.error(f"{ptr}/{key}", "must provide an array")
            return
        known = {(o.get("value"), json.dumps(o.get("text"), sort_keys=True)) for o in options}
        for i, opt in enumerate(initial):
            iptr = f"{ptr}/{key}/{i}" if multi else f"{ptr}/{key}"
            if not isinstance(opt, dict):
                self.error(iptr, "must provide an object")
                continue
            sig = (opt.get("value"), json.dumps(opt.get("text"), sort_keys=True))
            if sig not in known:
                self.error(iptr, f"{key} must match one of the provided options")

    def _select_options(self, el: dict, ptr: str, multi: bool) -> None:
        has_opts = el.get("options") is not None
        has_groups = el.get("option_groups") is not None
        if has_opts == has_groups:
            self.error(ptr, "must provide exactly one of: options, option_groups")
        options: list[dict] = []
        if has_opts:
            options = self._options(el, ptr, "options", MAX_SELECT_OPTIONS)
        if has_groups:
            groups = self._list(el, "option_groups", ptr, MAX_OPTION_GROUPS)
            for g, group in enumerate(groups):
                gptr = f"{ptr}/option_groups/{g}"
                if not isinstance(group, dict):
                    self.error(gptr, "must provide an object")
                    continue
                self._keys(group, {"label", "options"}, gptr)
                self.text(group.get("label"), f"{gptr}/label", MAX_OPTION_GROUP_LABEL, plain=True)
                options += self._options(group, gptr, "options", MAX_SELECT_OPTIONS)
        self._initial_options(el, ptr, options, "initial_options" if multi else "initial_option", multi)

    def _max_selected(self, el: dict, ptr: str) -> None:
        if "max_selected_items" in el:
            v = el["max_selected_items"]
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                self.error(f"{ptr}/max_selected_items", "must be an integer greater than 0")

    def _el_static_select(self, el, ptr):
        self._select_options(el, ptr, multi=False)

    def _el_multi_static_select(self, el, ptr):
        self._select_options(el, ptr, multi=True)
        self._max_selected(el, ptr)

    def _el_multi_external_select(self, el, ptr):
        self._max_selected(el, ptr)

    def _el_multi_users_select(self, el, ptr):
        self._max_selected(el, ptr)

    def _el_multi_conversations_select(self, el, ptr):
        self._max_selected(el, ptr)

    def _el_multi_channels_select(self, el, ptr):
        self._max_selected(el, ptr)

    def _el_overflow(self, el, ptr):
        self._options(el, ptr, "options", MAX_OVERFLOW_OPTIONS, allow_url=True)

    def _el_checkboxes(self, el, ptr):
        opts = self._options(el, ptr, "options", MAX_CHECKBOX_OPTIONS, plain=False)
        self._initial_options(el, ptr, opts, "initial_options", True)

    def _el_radio_buttons(self, el, ptr):
        opts = self._options(el, ptr, "options", MAX_RADIO_OPTIONS, plain=False)
        self._initial_options(el, ptr, opts, "initial_option", False)

    def _el_datepicker(self, el, ptr):
        value = el.get("initial_date")
        if value is not None:
            ok = isinstance(value, str) and _DATE_RE.match(value)
            if ok:
                try:
                    _dt.date.fromisoformat(value)
                except ValueError:
                    ok = False
            if not ok:
                self.error(f"{ptr}/initial_date", "must be a valid date in the format YYYY-MM-DD")

    def _el_timepicker(self, el, ptr):
        value = el.get("initial_time")
        if value is not None and not (isinstance(value, str) and _TIME_RE.match(value)):
            self.error(f"{ptr}/initial_time", "must be a valid time in the format HH:mm")

    def _el_datetimepicker(self, el, ptr):
        value = el.get("initial_date_time")
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            self.error(f"{ptr}/initial_date_time", "must be a UNIX timestamp in seconds")

    def _length(self, el, ptr, key):
        if key in el:
            v = el[key]
            if not isinstance(v, int) or isinstance(v, bool):
                self.error(f"{ptr}/{key}", "must provide an integer")
                return None
            low = 1 if key == "max_length" else 0
            if v < low or v > MAX_TEXT_INPUT_LENGTH:
                self.error(f"{ptr}/{key}", f"must be between {low} and {MAX_TEXT_INPUT_LENGTH}")
            return v
        return None

    def _el_plain_text_input(self, el, ptr):
        lo = self._length(el, ptr, "min_length")
        hi = self._length(el, ptr, "max_length")
        if lo is not None and hi is not None and lo > hi:
            self.error(f"{ptr}/min_length", "must be less than or equal to max_length")
        if "initial_value" in el and not isinstance(el["initial_value"], str):
            self.error(f"{ptr}/initial_value", "must provide a string")
        if "multiline" in el and not isinstance(el["multiline"], bool):
            self.error(f"{ptr}/multiline", "must provide a boolean")

    def _el_number_input(self, el, ptr):
        if not isinstance(el.get("is_decimal_allowed"), bool):
            self.error(ptr, "missing required field: is_decimal_allowed")

    def _el_file_input(self, el, ptr):
        if "max_files" in el and not (isinstance(el["max_files"], int) and 1 <= el["max_files"] <= 10):
            self.error(f"{ptr}/max_files", "must be between 1 and 10")

    # -- composition objects --------------------------------------------------------
    def option(self, opt: Any, ptr: str, *, plain: bool = True, allow_url: bool = False) -> None:
        if not isinstance(opt, dict):
            self.error(ptr, "must provide an object")
            return
        allowed = {"text", "value", "description"} | ({"url"} if allow_url else set())
        self._keys(opt, allowed, ptr)
        self.text(opt.get("text"), f"{ptr}/text", MAX_OPTION_TEXT, plain=plain)
        self._str(opt, "value", ptr, MAX_OPTION_VALUE, required=True)
        self.text(opt.get("description"), f"{ptr}/description", MAX_OPTION_DESCRIPTION, plain=plain, required=False)
        if allow_url and "url" in opt:
            self._url(opt, "url", ptr)

    def confirm(self, obj: Any, ptr: str) -> None:
        if not isinstance(obj, dict):
            self.error(ptr, "must provide an object")
            return
        self._keys(obj, {"title", "text", "confirm", "deny", "style"}, ptr)
        self.text(obj.get("title"), f"{ptr}/title", MAX_CONFIRM_TITLE, plain=True)
        self.text(obj.get("text"), f"{ptr}/text", MAX_CONFIRM_TEXT)
        self.text(obj.get("confirm"), f"{ptr}/confirm", MAX_CONFIRM_BUTTON, plain=True)
        self.text(obj.get("deny"), f"{ptr}/deny", MAX_CONFIRM_BUTTON, plain=True)
        self._style(obj, ptr)


def validate_blocks(blocks: Any, surface: str = "message", action_id_scope: str = "surface") -> list[str]:
    """Return Slack-style error strings for a list of blocks (empty when valid)."""
    v = BlockKitValidator(surface, action_id_scope)
    v.blocks(blocks)
    return v.errors


def validate_view(view: Any, action_id_scope: str = "surface") -> list[str]:
    """Return Slack-style error strings for a view payload (empty when valid)."""
    v = BlockKitValidator("modal", action_id_scope)
    v.view(view)
    return v.errors


def _iter_elements(blocks: Iterable[dict]):
    """Yield (block, element) for every interactive element in a list of blocks."""
    for block in blocks or ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "section" and isinstance(block.get("accessory"), dict):
            yield block, block["accessory"]
        elif kind == "actions":
            for el in block.get("elements") or ():
                if isinstance(el, dict):
                    yield block, el
        elif kind == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]


def _normalize_blocks(blocks: list | None) -> list | None:
    """Deep-copy blocks and fill in block_id / action_id like Slack does."""
    if blocks is None:
        return None
    blocks = copy.deepcopy(blocks)
    for block in blocks:
        if isinstance(block, dict) and not block.get("block_id"):
            block["block_id"] = _short_id()
    for _block, el in _iter_elements(blocks):
        if el.get("type") != "image" and not el.get("action_id"):
            el["action_id"] = _short_id()
    return blocks


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------
class Call(tuple):
    """One Web API call: unpacks as ``(method, args)``; also has ``.ok``, ``.error``,
    ``.response`` (the JSON answer; ``None`` for a non-JSON :meth:`FakeSlack.server_error`),
    ``.http_method``, ``.time`` (the fake's clock when the request arrived), ``.status``
    (the HTTP status answered), ``.delay`` (seconds an injected :meth:`FakeSlack.delay`
    held it) and ``.injected`` (the :class:`Injected` record if the answer was an injected
    failure, else ``None``)."""

    def __new__(cls, method: str, args: dict):
        return tuple.__new__(cls, (method, args))

    @property
    def method(self) -> str:
        return self[0]

    @property
    def args(self) -> dict:
        return self[1]


class Violation(tuple):
    """A rule violation the fake answered with: unpacks as ``(method, error, detail)``."""

    def __new__(cls, method: str, error: str, detail: Any = None):
        return tuple.__new__(cls, (method, error, detail))

    method = property(lambda self: self[0])
    error = property(lambda self: self[1])
    detail = property(lambda self: self[2])


class Injected(tuple):
    """A failure the test injected (not a rule violation): unpacks as ``(method, error,
    time)``; ``error`` is ``None`` for a non-JSON :meth:`FakeSlack.server_error`, ``time`` is
    the fake's clock when it was answered.  Also has ``.status`` (HTTP status), ``.args``
    (the call's arguments) and ``.source``: the fault API that caused it (``"fail"``,
    ``"rate_limit"``, ``"server_error"``, ``"archive_channel"``, ``"delete_channel"`` or
    ``"set_bot_member"``)."""

    def __new__(cls, method: str, error: str | None, time: float, *, status: int, args: dict, source: str):
        self = tuple.__new__(cls, (method, error, time))
        self.status = status
        self.args = args
        self.source = source
        return self

    method = property(lambda self: self[0])
    error = property(lambda self: self[1])
    time = property(lambda self: self[2])


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    members: set = field(default_factory=set)
    bot_member: bool = True
    is_archived: bool = False
    is_im: bool = False
    is_mpim: bool = False
    is_general: bool = False
    im_user: str | None = None
    created: int = 0

    def to_slack(self, bot_user_id: str) -> dict:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private and not self.is_mpim,
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_general": self.is_general,
            "unlinked": 0,
            "name_normalized": self.name,
            "is_shared": False,
            "is_org_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "is_member": self.bot_member,
            "creator": "",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "num_members": len(self.members | ({bot_user_id} if self.bot_member else set())),
        }


@dataclass
class Message:
    """A channel message (top level or thread reply) as Slack stores it."""

    ts: str
    channel: str
    text: str = ""
    blocks: list | None = None
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    attachments: list | None = None
    metadata: dict | None = None
    reply_broadcast: bool = False
    replies: list = field(default_factory=list)
    edits: list = field(default_factory=list)
    deleted: bool = False
    source: str = "chat.postMessage"
    command_user: str | None = None
    team: str | None = None
    orphan: bool = False
    edited: dict | None = None

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_slack(self) -> dict:
        d: dict[str, Any] = {"type": "message"}
        if self.bot_id:
            d["bot_id"] = self.bot_id
            d["app_id"] = self.app_id
        if self.reply_broadcast:
            d["subtype"] = "thread_broadcast"
        d["text"] = self.text
        if self.user:
            d["user"] = self.user
        d["ts"] = self.ts
        d["team"] = self.team
        if self.blocks:
            d["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            d["attachments"] = copy.deepcopy(self.attachments)
        if self.metadata:
            d["metadata"] = copy.deepcopy(self.metadata)
        if self.edited:
            d["edited"] = dict(self.edited)
        if self.thread_ts:
            d["thread_ts"] = self.thread_ts
        if self.replies:
            live = [r for r in self.replies if not r.deleted]
            d["thread_ts"] = self.ts
            d["reply_count"] = len(live)
            d["reply_users"] = sorted({r.user for r in live if r.user})
            d["reply_users_count"] = len(d["reply_users"])
            d["latest_reply"] = live[-1].ts if live else self.ts
        return d

    def snapshot(self) -> dict:
        return {
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
            "attachments": copy.deepcopy(self.attachments),
            "metadata": copy.deepcopy(self.metadata),
        }


@dataclass
class Ephemeral:
    """An ephemeral message shown to one user (chat.postEphemeral, command ack,
    response_url post with response_type ephemeral)."""

    ts: str
    channel: str
    user: str
    text: str = ""
    blocks: list | None = None
    attachments: list | None = None
    thread_ts: str | None = None
    source: str = "chat.postEphemeral"
    deleted: bool = False
    edits: list = field(default_factory=list)

    def snapshot(self) -> dict:
        return {"text": self.text, "blocks": copy.deepcopy(self.blocks), "attachments": copy.deepcopy(self.attachments)}


@dataclass
class ResponsePost:
    """One POST the app made to a response_url."""

    url: str
    source: str  # "command" | "block_actions" | ...
    user: str | None
    channel: str | None
    payload: dict
    response_type: str
    replace_original: bool
    delete_original: bool
    text: str | None
    blocks: list | None
    thread_ts: str | None
    status: int = 200
    error: str | None = None
    messages: list | None = None  # Block Kit error details when rejected
    result: Any = None  # the Message / Ephemeral created or edited


@dataclass
class View:
    """A modal or App Home view as Slack holds it."""

    id: str
    type: str
    user: str
    team_id: str
    app_id: str
    bot_id: str
    blocks: list = field(default_factory=list)
    title: dict | None = None
    submit: dict | None = None
    close: dict | None = None
    callback_id: str = ""
    private_metadata: str = ""
    external_id: str = ""
    clear_on_close: bool = False
    notify_on_close: bool = False
    submit_disabled: bool = False
    state: dict = field(default_factory=lambda: {"values": {}})
    hash: str = ""
    root_view_id: str | None = None
    previous_view_id: str | None = None
    errors: dict | None = None
    closed: bool = False
    history: list = field(default_factory=list)
    submissions: list = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return not self.closed

    def input_block_ids(self) -> set[str]:
        return {b["block_id"] for b in self.blocks if b.get("type") == "input"}

    def to_slack(self) -> dict:
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": copy.deepcopy(self.state),
            "hash": self.hash,
            "title": copy.deepcopy(self.title)
            if self.title
            else {"type": "plain_text", "text": "View Title", "emoji": True},
            "clear_on_close": self.clear_on_close,
            "notify_on_close": self.notify_on_close,
            "close": copy.deepcopy(self.close),
            "submit": copy.deepcopy(self.submit),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id or self.id,
            "app_id": self.app_id,
            "external_id": self.external_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }


class AppResponse:
    """The app's HTTP answer to a request the fake sent, and what the fake did with it."""

    def __init__(self, kind: str, payload: Any, status: int, headers: dict, body: str, elapsed: float):
        self.kind = kind
        self.payload = payload
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed
        self.timed_out = False
        self.applied: list[str] = []
        self.trigger_id: str | None = None
        self.response_url: str | None = None
        self.view: View | None = None
        self.message: Message | None = None
        self.ephemeral: Ephemeral | None = None
        self.signed_ok = True
        # Socket Mode deliveries (transport == "socket"): the envelope sent, and where
        self.transport = "http"
        self.envelope: dict | None = None
        self.envelope_id: str | None = None
        self.connection: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.timed_out

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def __repr__(self) -> str:
        return (
            f"<AppResponse {self.kind} {self.transport} status={self.status} elapsed={self.elapsed:.3f}s"
            f" body={self.body[:200]!r} applied={self.applied}>"
        )


class _ApiError(Exception):
    def __init__(
        self,
        error: str,
        *,
        messages: list[str] | None = None,
        status: int = 200,
        headers=None,
        extra=None,
        detail=None,
        injected: str | None = None,
    ):
        super().__init__(error)
        self.error = error
        self.messages = messages
        self.status = status
        self.headers = headers or {}
        self.extra = extra or {}
        self.detail = detail
        # The fault API whose state caused this answer (recorded in ``injected``, not ``errors``).
        self.injected = injected


@dataclass
class _Fault:
    """One injected fault: a failed answer (``kind`` "fail"/"rate_limit"/"server_error") or a
    delay (``kind`` "delay") for the next ``times`` calls (``None``: every call) to ``method``
    ("*": any method) whose arguments satisfy ``when``."""

    kind: str
    method: str
    times: int | None
    when: Callable[[dict], bool] | None = None
    error: str | None = None
    status: int = 200
    headers: dict = field(default_factory=dict)
    seconds: float = 0.0
    apply_first: bool = False

    def take(self, method: str, args: dict) -> bool:
        """Does this fault apply to this call?  If so, count it against ``times``."""
        if self.times is not None and self.times <= 0:
            return False
        if self.method not in ("*", method):
            return False
        if self.when is not None and not self.when(dict(args)):
            return False
        if self.times is not None:
            self.times -= 1
        return True


@dataclass
class _Trigger:
    id: str
    user: str
    issued: float
    source: str
    view_id: str | None = None
    used: bool = False


@dataclass
class _ResponseUrl:
    id: str
    url: str
    source: str
    user: str
    channel: str | None
    issued: float
    message_ref: tuple | None = None  # (channel, ts) of the clicked message
    ephemeral: Ephemeral | None = None
    uses: int = 0


# --------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeSlack/1.0"

    def log_message(self, format, *args):
        log.debug("fake slack http: " + format, *args)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        self.server.fake._http(self, "GET", b"")

    def do_POST(self):
        self.server.fake._http(self, "POST", self._read_body())

    def send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(body)


_TZ_LABELS = {
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "UTC": "Coordinated Universal Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
}


def _tz_info(tz: str) -> tuple[str, int]:
    try:
        from zoneinfo import ZoneInfo

        now = _dt.datetime.now(ZoneInfo(tz))
        abbr = now.tzname() or tz
        offset = int(now.utcoffset().total_seconds()) if now.utcoffset() else 0
        return _TZ_LABELS.get(abbr, abbr), offset
    except Exception:
        return tz, 0


# --------------------------------------------------------------------------------------
# Socket Mode: the server side of RFC 6455 WebSockets (stdlib only)
# --------------------------------------------------------------------------------------
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
_WS_CONTINUATION, _WS_TEXT, _WS_BINARY = 0x0, 0x1, 0x2
_WS_CLOSE, _WS_PING, _WS_PONG = 0x8, 0x9, 0xA
_WS_OPCODES = {_WS_CONTINUATION, _WS_TEXT, _WS_BINARY, _WS_CLOSE, _WS_PING, _WS_PONG}


def _ws_accept(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key.strip() + _WS_GUID).encode()).digest()).decode()


def _ws_frame(opcode: int, payload: bytes = b"") -> bytes:
    """One unmasked, final frame as a server sends it (RFC 6455 section 5.2)."""
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + payload


def _ws_close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()[:123]


class _WsProtocolError(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


class SocketConnection:
    """One Socket Mode WebSocket connection the app opened to the fake (Slack's side).

    ``received`` holds every text message the app sent (acks), ``envelopes`` the ids
    of the envelopes delivered on it, ``disconnect_reason`` the reason of the
    ``disconnect`` message the fake sent (then ``draining``: no more deliveries)."""

    def __init__(self, conn_id: str, ticket: str, sock: socket.socket, rfile, opened: float, host: str):
        self.id = conn_id
        self.ticket = ticket
        self.host = host  # debug_info.host, as in Slack's hello/disconnect
        self.opened = opened
        self.closed_at: float | None = None
        self.close_code: int | None = None  # from the close frame, whoever sent it first
        self.close_reason = ""
        self.closed_by: str | None = None  # "app" | "fake" | "eof"
        self.hello: dict | None = None
        self.disconnect_reason: str | None = None
        self.disconnects: list[str] = []  # reasons of every disconnect message sent
        self.draining = False
        self.received: list[str] = []
        self.envelopes: list[str] = []
        self.pings_from_app = 0
        self.pongs: list[bytes] = []
        self._sock = sock
        self._rfile = rfile
        self._send_lock = threading.Lock()
        self._close_sent = False
        self._done = threading.Event()
        self._pong = threading.Condition()

    @property
    def open(self) -> bool:
        return not self._done.is_set()

    @property
    def ready(self) -> bool:
        """Open, greeted with ``hello`` and not asked to disconnect: payloads go here."""
        return self.open and self.hello is not None and not self.draining and not self._close_sent

    def __repr__(self) -> str:
        state = f"closed({self.close_code})" if not self.open else "draining" if self.draining else "open"
        return f"<SocketConnection {self.id} {state} envelopes={len(self.envelopes)}>"

    # -- frames
    def _send(self, opcode: int, payload: bytes = b"") -> bool:
        frame = _ws_frame(opcode, payload)  # one sendall per frame: readers see whole frames
        with self._send_lock:
            if self._done.is_set() or self._close_sent:
                return False  # nothing after a close frame (RFC 6455 section 5.5.1)
            try:
                self._sock.sendall(frame)
            except OSError:
                return False
            if opcode == _WS_CLOSE:
                self._close_sent = True
        return True

    def send_text(self, text: str) -> bool:
        return self._send(_WS_TEXT, text.encode("utf-8"))

    def _read_exact(self, n: int) -> bytes:
        data = self._rfile.read(n) if n else b""
        if len(data) < n:
            raise EOFError
        return data

    def _read_frame(self) -> tuple[bool, int, bytes]:
        b1, b2 = self._read_exact(2)
        fin, opcode = bool(b1 & 0x80), b1 & 0x0F
        if b1 & 0x70:
            raise _WsProtocolError(1002, "reserved bits set without a negotiated extension")
        if opcode not in _WS_OPCODES:
            raise _WsProtocolError(1002, f"unknown opcode {opcode:#x}")
        n = b2 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._read_exact(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._read_exact(8))
        if opcode >= _WS_CLOSE and (n > 125 or not fin):
            raise _WsProtocolError(1002, "control frames must be final and at most 125 bytes")
        if not b2 & 0x80:
            raise _WsProtocolError(1002, "client frames must be masked (RFC 6455 section 5.1)")
        if n > SOCKET_MAX_MESSAGE:
            raise _WsProtocolError(1009, "message too big")
        mask = self._read_exact(4)
        raw = self._read_exact(n)
        keys = (mask * (n // 4 + 1))[:n]
        return fin, opcode, (int.from_bytes(raw, "big") ^ int.from_bytes(keys, "big")).to_bytes(n, "big")

    def close(self, code: int = 1000, reason: str = "", *, wait: float = 2.0) -> None:
        """Send a close frame; drop the TCP connection if the app has not closed it
        within ``wait`` seconds."""
        first = self.close_code is None
        if first:  # before the frame leaves: the app's echo may be read at once
            self.close_code, self.close_reason, self.closed_by = code, reason, "fake"
        if not self._send(_WS_CLOSE, _ws_close_payload(code, reason)) and first:
            self.close_code = self.close_reason = self.closed_by = None
        if not self._done.wait(wait):
            self._shutdown()

    def _shutdown(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@dataclass
class _Envelope:
    id: str
    kind: str
    type: str
    connection: str
    sent: float  # perf_counter
    done: threading.Event = field(default_factory=threading.Event)
    ack: dict | None = None
    acked_at: float | None = None
    acked_on: str | None = None
    abandoned: bool = False  # the fake stopped waiting (app_timeout passed)


# --------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------
class FakeSlack:
    """A fake Slack workspace + Web API + Slack client side.  See module docstring."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        signing_secret: str = "sig-secret",
        team_id: str = "T0001",
        app_id: str = "A0001",
        bot_user_id: str = "UBOT",
        scopes: Iterable[str] = (
            "commands",
            "chat:write",
            "chat:write.public",
            "users:read",
            "users:read.email",
            "im:write",
        ),
        enforce_rate_limits: bool = False,
        *,
        bot_id: str | None = None,
        bot_name: str = "orcoursetrion",
        team_domain: str = "orc-test",
        team_name: str = "Orc Test",
        verification_token: str = "verification-token",
        action_id_scope: str = "surface",
        trigger_ttl: float = TRIGGER_TTL,
        ack_deadline: float = ACK_DEADLINE,
        app_timeout: float = 15.0,
        host: str = "127.0.0.1",
        port: int = 0,
        app_token: str | None = "xapp-test",
        app_token_scopes: Iterable[str] = ("connections:write",),
    ):
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.app_id = app_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id or ("B" + app_id[1:] if app_id.startswith("A") else "B" + app_id)
        self.bot_name = bot_name
        self.team_domain = team_domain
        self.team_name = team_name
        self.verification_token = verification_token
        self.scopes = set(scopes)
        self.enforce_rate_limits = enforce_rate_limits
        self.action_id_scope = action_id_scope
        self.trigger_ttl = trigger_ttl
        self.ack_deadline = ack_deadline
        self.app_timeout = app_timeout
        self.app_url: str | None = None
        self._acking: dict[str, threading.Event] = {}  # view id -> set once its submission's ack is applied
        # Socket Mode: the app-level token (xapp-...) that apps.connections.open takes,
        # and the switch that sends payloads over the WebSocket instead of to app_url.
        self.app_token = app_token
        self.app_token_scopes = set(app_token_scopes)
        self._transport = "http"
        # Replicas behind a load balancer: when set, each request is delivered to every URL
        # here at the same moment (the same signed body), as a retried or duplicated
        # delivery would reach several replicas. The first URL's answer is the one applied.
        self.fanout: list[str] | None = None
        self._host = host
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self._offset = 0.0
        self._last_ts_us = 0
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        self.users: dict[str, dict] = {}
        self.channels: dict[str, Channel] = {}
        self._messages: dict[str, list[Message]] = {}
        self._index: dict[tuple[str, str], Message] = {}
        self._ephemerals: list[Ephemeral] = []
        self._responses: list[ResponsePost] = []
        self._response_urls: dict[str, _ResponseUrl] = {}
        self.views: dict[str, View] = {}
        self._stacks: dict[str, list[str]] = {}  # user -> open modal view ids (bottom..top)
        self._homes: dict[str, str] = {}  # user -> home view id
        self._triggers: dict[str, _Trigger] = {}
        self._rate: dict[tuple, deque] = {}
        self.calls: list[Call] = []
        self.errors: list[Violation] = []
        self.warnings: list[Violation] = []
        self.app_requests: list[AppResponse] = []
        self.orphans: list[Message] = []
        self.sockets: list[SocketConnection] = []  # every Socket Mode connection, oldest first
        self._tickets: dict[str, dict] = {}
        self._envelopes: dict[str, _Envelope] = {}
        self._socket_turn = 0
        self._socket_changed = threading.Condition(self._lock)
        self._socket_timers: list[threading.Timer] = []
        # Fault injection (see "Fault injection" in the module docstring).
        self.injected: list[Injected] = []
        self._faults: list[_Fault] = []  # failed answers, first match wins
        self._delays: list[_Fault] = []  # delays, first match wins
        self._deleted_channels: dict[str, Channel] = {}
        self._fault_states: dict[str, set[str]] = {}  # channel id -> {"archived", "not_member"}
        self._stopped = threading.Event()  # wakes delayed handlers when the fake stops

        self._add_user_locked(
            bot_user_id,
            name=bot_name,
            real_name=bot_name,
            email=None,
            tz="America/New_York",
            is_admin=False,
            is_bot=True,
        )

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        self._stopped.clear()
        self._server = _Server((self._host, self._port), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopped.set()
        for timer in self._socket_timers:
            timer.cancel()
        for conn in list(self.sockets):
            if conn.open:
                conn._shutdown()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ clock
    def now(self) -> float:
        """The fake's clock (real time plus whatever :meth:`advance` added)."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (trigger/response_url expiry, rate limits, ts).
        Request signatures keep using the real clock, as the app verifies them."""
        with self._lock:
            self._offset += seconds

    def _new_ts(self) -> str:
        with self._lock:
            us = int(self.now() * 1_000_000)
            if us <= self._last_ts_us:
                us = self._last_ts_us + 1
            self._last_ts_us = us
            return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    # ------------------------------------------------------------------ workspace setup
    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "America/New_York",
        is_admin: bool = False,
        *,
        is_bot: bool = False,
        deleted: bool = False,
        display_name: str | None = None,
        is_owner: bool = False,
        is_restricted: bool = False,
    ) -> dict:
        with self._lock:
            return self._add_user_locked(
                user_id,
                name=name,
                real_name=real_name,
                email=email,
                tz=tz,
                is_admin=is_admin,
                is_bot=is_bot,
                deleted=deleted,
                display_name=display_name,
                is_owner=is_owner,
                is_restricted=is_restricted,
            )

    def _add_user_locked(
        self,
        user_id,
        *,
        name=None,
        real_name=None,
        email=None,
        tz="America/New_York",
        is_admin=False,
        is_bot=False,
        deleted=False,
        display_name=None,
        is_owner=False,
        is_restricted=False,
    ) -> dict:
        name = name or user_id.lower()
        user = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": real_name or name,
            "display_name": display_name if display_name is not None else name,
            "email": email,
            "tz": tz,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_restricted": is_restricted,
            "is_bot": is_bot,
            "deleted": deleted,
        }
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str | None = None,
        is_private: bool = False,
        members: Iterable[str] = (),
        bot_member: bool = True,
        *,
        is_archived: bool = False,
        is_general: bool = False,
    ) -> Channel:
        with self._lock:
            ch = Channel(
                id=channel_id,
                name=name or channel_id.lower(),
                is_private=is_private,
                members=set(members),
                bot_member=bot_member,
                is_archived=is_archived,
                is_general=is_general,
                created=int(self.now()),
            )
            self.channels[channel_id] = ch
            self._messages.setdefault(channel_id, [])
            return ch

    def set_bot_member(self, channel_id: str, member: bool = True, *, injected: bool = False) -> None:
        """Add the bot to a channel or take it out.  Out of a channel, posting there is
        refused as Slack refuses it: ``channel_not_found`` in a private channel (Slack hides
        private channels from non-members, chat.update included), ``not_in_channel`` in a
        public one without the ``chat:write.public`` scope (chat.postMessage and
        chat.postEphemeral).  Those refusals are rule violations (``errors``) unless
        ``injected=True`` (the test kicks the bot mid-run): then they go to ``injected``."""
        with self._lock:
            self.channels[channel_id].bot_member = member
            states = self._fault_states.setdefault(channel_id, set())
            if member or not injected:
                states.discard("not_member")
            else:
                states.add("not_member")

    # ------------------------------------------------------------------ fault injection
    def archive_channel(self, channel_id: str) -> None:
        """Archive a channel as a member would in Slack.  From now on chat.postMessage and
        chat.postEphemeral answer ``is_archived`` ("Channel has been archived") and
        chat.update answers ``is_inactive`` ("The message cannot be edited within a frozen,
        archived or deleted channel"), HTTP 200; those answers are recorded in ``injected``
        (not ``errors``).  Reading (conversations.history, .info) still works, with
        ``is_archived: true``.  :meth:`unarchive_channel` undoes it."""
        with self._lock:
            ch = self.channels[channel_id]
            if ch.is_im:
                raise ValueError(f"{channel_id} is a DM; Slack cannot archive DMs")
            ch.is_archived = True
            self._fault_states.setdefault(channel_id, set()).add("archived")

    def unarchive_channel(self, channel_id: str) -> None:
        with self._lock:
            self.channels[channel_id].is_archived = False
            self._fault_states.setdefault(channel_id, set()).discard("archived")

    def delete_channel(self, channel_id: str) -> None:
        """Delete a channel as a workspace admin would: every Web API method given its id
        (or name) answers ``channel_not_found`` from now on, HTTP 200, recorded in
        ``injected`` (not ``errors``).  The fake keeps its messages for inspection
        (``fake.messages(channel_id)``)."""
        with self._lock:
            ch = self.channels.pop(channel_id)
            if ch.is_im:
                self.channels[channel_id] = ch
                raise ValueError(f"{channel_id} is a DM; Slack cannot delete DMs")
            self._deleted_channels[channel_id] = ch

    def delay(
        self,
        method: str,
        seconds: float,
        times: int | None = None,
        *,
        when: Callable[[dict], bool] | None = None,
        apply_first: bool = False,
    ) -> None:
        """Answer the next ``times`` Web API calls to ``method`` (``"*"``: any method; ``None``
        times: every call from now on) after ``seconds`` of real time.  The handler thread
        sleeps without holding the fake's lock, so other calls (and other delayed calls)
        proceed meanwhile.  By default the call takes effect after the sleep (a slow Slack);
        with ``apply_first=True`` it takes effect at once and only the answer is late (the
        app may time out and retry something Slack already did).  ``when(args)`` narrows it
        to calls whose arguments (``Call.args``) satisfy it.  The first matching delay
        applies; the call's ``.time`` is still when it arrived, ``.delay`` the seconds."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self._check_times(times)
        with self._lock:
            self._delays.append(
                _Fault("delay", method, times, when=when, seconds=float(seconds), apply_first=apply_first)
            )

    def fail(
        self,
        method: str,
        error: str,
        times: int | None = 1,
        *,
        status: int | None = None,
        headers: dict | None = None,
        when: Callable[[dict], bool] | None = None,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` (``"*"``: any method; ``None``: every
        call from now on) whose arguments satisfy ``when`` (if given) with
        ``{"ok": false, "error": error}`` and change nothing.  The HTTP status is Slack's
        for that error: 429 with ``Retry-After: 1`` (``headers`` may set another) for
        ``ratelimited``, else 200.  Slack's method references list ``fatal_error``,
        ``internal_error``, ``service_unavailable`` and ``request_timeout`` as ordinary
        ``error`` codes of the JSON answer, like ``channel_not_found``, and slack_sdk's
        maintainers answer ``fatal_error`` with 200 in their own tests; Slack's real 5xx
        answers carry no JSON (:meth:`server_error`).  ``status`` overrides it (e.g.
        ``status=503`` for a JSON error behind a 5xx).  Each such answer is recorded in
        ``injected``, never in ``errors``; injected faults are checked before
        authentication, in the order they were added (first match wins)."""
        self._add_failure("fail", method, error, times, status=status, headers=headers, when=when)

    def _add_failure(self, kind, method, error, times, *, status=None, headers=None, when=None) -> None:
        if not error or not isinstance(error, str):
            raise ValueError("error must be a Slack error code such as 'ratelimited'")
        self._check_times(times)
        hdrs = {"Retry-After": "1"} if error == "ratelimited" else {}
        for k, v in (headers or {}).items():
            for old in [o for o in hdrs if o.lower() == k.lower()]:
                del hdrs[old]
            hdrs[k] = str(v)
        if status is None:
            status = 429 if error == "ratelimited" else 200
        with self._lock:
            self._faults.append(_Fault(kind, method, times, when=when, error=error, status=status, headers=hdrs))

    def rate_limit(self, method: str, retry_after: int = 1, times: int | None = None) -> None:
        """Sustained rate limiting: the next ``times`` calls to ``method`` (``None``: every
        call until :meth:`clear_faults`) answer HTTP 429, ``Retry-After: retry_after``,
        ``{"ok": false, "error": "ratelimited"}``.  Recorded in ``injected``."""
        self._add_failure("rate_limit", method, "ratelimited", times, headers={"Retry-After": str(int(retry_after))})

    def server_error(
        self, method: str, status: int = 500, times: int | None = 1, *, when: Callable[[dict], bool] | None = None
    ) -> None:
        """Slack's answer when its servers are down: HTTP ``status`` (500, 502, 503, ...) with
        an HTML "Server Error | Slack" page instead of JSON, for the next ``times`` calls to
        ``method``; nothing changes.  slack_sdk raises SlackApiError ("Received a response
        in a non-JSON format") and its ServerErrorRetryHandler retries it.  Recorded in
        ``injected`` with ``error=None``."""
        if status < 500:
            raise ValueError("a server error has a 5xx status")
        self._check_times(times)
        with self._lock:
            self._faults.append(_Fault("server_error", method, times, when=when, status=status))

    def clear_faults(self) -> None:
        """Forget every pending :meth:`fail`, :meth:`rate_limit`, :meth:`server_error` and
        :meth:`delay`.  Channel states (archived, deleted, bot removed) stay as they are, and
        ``injected`` keeps its history."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()

    @staticmethod
    def _check_times(times: int | None) -> None:
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ValueError("times must be a positive int or None (every call)")

    @staticmethod
    def _take(rules: list[_Fault], method: str, args: dict) -> _Fault | None:
        for rule in rules:
            if rule.take(method, args):
                return rule
        return None

    def _record_injected(self, method: str, error: str | None, status: int, args: dict, source: str) -> Injected:
        rec = Injected(method, error, self.now(), status=status, args=args, source=source)
        with self._lock:
            self.injected.append(rec)
        log.info("FakeSlack injected %s: %s (HTTP %s, %s)", method, error, status, source)
        return rec

    def add_member(self, channel_id: str, user_id: str) -> None:
        with self._lock:
            self.channels[channel_id].members.add(user_id)

    def remove_member(self, channel_id: str, user_id: str) -> None:
        with self._lock:
            self.channels[channel_id].members.discard(user_id)

    def dm(self, user_id: str) -> str:
        """The id of the bot's DM channel with ``user_id`` (created if needed)."""
        with self._lock:
            return self._dm_locked(user_id).id

    def _dm_locked(self, user_id: str) -> Channel:
        for ch in self.channels.values():
            if ch.is_im and ch.im_user == user_id:
                return ch
        cid = "D" + hashlib.sha1(user_id.encode()).hexdigest()[:9].upper()
        ch = Channel(
            id=cid,
            name=user_id,
            is_private=True,
            members={user_id},
            bot_member=True,
            is_im=True,
            im_user=user_id,
            created=int(self.now()),
        )
        self.channels[cid] = ch
        self._messages.setdefault(cid, [])
        return ch

    # ------------------------------------------------------------------ state queries
    def _chan_key(self, channel: str) -> str:
        if channel in self.channels:
            return channel
        if channel.startswith(("U", "W")) and channel in self.users:
            return self._dm_locked(channel).id
        for ch in self.channels.values():
            if ch.name == channel.lstrip("#") and not ch.is_im:
                return ch.id
        return channel

    def messages(self, channel: str, include_deleted: bool = False) -> list[Message]:
        """Top-level messages (plus thread_broadcast replies) in posting order.
        ``channel`` may be a channel id, a channel name or a user id (DM)."""
        with self._lock:
            key = self._chan_key(channel)
            return [m for m in self._messages.get(key, []) if include_deleted or not m.deleted]

    def message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            return self._index.get((self._chan_key(channel), ts))

    def last_message(self, channel: str) -> Message | None:
        msgs = self.messages(channel)
        return msgs[-1] if msgs else None

    def thread(self, channel: str, ts: str, include_deleted: bool = False) -> list[Message]:
        with self._lock:
            parent = self._index.get((self._chan_key(channel), ts))
            if parent is None:
                return []
            return [r for r in parent.replies if include_deleted or not r.deleted]

    def ephemerals(
        self, user: str | None = None, channel: str | None = None, include_deleted: bool = False
    ) -> list[Ephemeral]:
        with self._lock:
            key = self._chan_key(channel) if channel else None
            return [
                e
                for e in self._ephemerals
                if (user is None or e.user == user)
                and (key is None or e.channel == key)
                and (include_deleted or not e.deleted)
            ]

    def responses(
        self, user: str | None = None, channel: str | None = None, source: str | None = None
    ) -> list[ResponsePost]:
        with self._lock:
            return [
                r
                for r in self._responses
                if (user is None or r.user == user)
                and (channel is None or r.channel == channel)
                and (source is None or r.source == source)
            ]

    def open_views(self, user: str) -> list[View]:
        """The user's open modal stack, bottom to top."""
        with self._lock:
            return [self.views[v] for v in self._stacks.get(user, [])]

    def top_view(self, user: str) -> View | None:
        stack = self.open_views(user)
        return stack[-1] if stack else None

    def home(self, user: str) -> View | None:
        with self._lock:
            vid = self._homes.get(user)
            return self.views.get(vid) if vid else None

    def count(self, method: str, **arg_filter) -> int:
        with self._lock:
            return sum(
                1 for c in self.calls if c.method == method and all(c.args.get(k) == v for k, v in arg_filter.items())
            )

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def call_times(self, method: str) -> list[float]:
        """When each call to ``method`` reached the fake (its clock, in arrival order),
        injected failures included; e.g. the gaps between an app's chat.update edits."""
        with self._lock:
            return [c.time for c in self.calls if c.method == method]

    def assert_no_errors(self) -> None:
        with self._lock:
            if self.errors:
                raise AssertionError("FakeSlack recorded rule violations:\n" + self.describe())

    def describe(self, last: int = 15) -> str:
        """A human-readable summary of recent activity (used in failure messages)."""
        with self._lock:
            lines = [f"errors ({len(self.errors)}):"]
            lines += [f"  {e.method}: {e.error} {_short(e.detail)}" for e in self.errors[-last:]]
            lines.append(f"warnings ({len(self.warnings)}):")
            lines += [f"  {w.method}: {w.error} {_short(w.detail)}" for w in self.warnings[-5:]]
            if self.injected:
                lines.append(f"injected failures ({len(self.injected)}):")
                lines += [f"  {i.method}: {i.error} HTTP {i.status} ({i.source})" for i in self.injected[-5:]]
            lines.append(f"last web API calls ({len(self.calls)} total):")
            for c in self.calls[-last:]:
                status = "ok" if getattr(c, "ok", None) else f"error={getattr(c, 'error', None)}"
                lines.append(f"  {c.method} {status} {_short(c.args)}")
            if self.sockets:
                lines.append(f"socket mode connections: {self.sockets[-5:]}")
            lines.append(f"last requests to the app ({len(self.app_requests)} total):")
            lines += [f"  {r!r}" for r in self.app_requests[-5:]]
            return "\n".join(lines)

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.02, message: str | None = None
    ):
        """Poll ``predicate`` until it returns something truthy and return it; raise
        AssertionError (with recent fake activity) on timeout."""
        deadline = time.monotonic() + timeout
        last: Any = None
        exc: BaseException | None = None
        while True:
            try:
                last = predicate()
                exc = None
            except Exception as e:
                last, exc = None, e
            if last:
                return last
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        try:
            src = inspect.getsource(predicate).strip()
        except (OSError, TypeError):
            src = getattr(predicate, "__name__", repr(predicate))
        msg = message or f"condition not met within {timeout}s: {src}"
        raise AssertionError(f"{msg}\nlast result: {last!r}\nlast exception: {exc!r}\n{self.describe()}")

    # ------------------------------------------------------------------ violations
    def _violation(self, method: str, error: str, detail: Any = None) -> None:
        with self._lock:
            self.errors.append(Violation(method, error, detail))
        log.warning("FakeSlack violation %s: %s %s", method, error, _short(detail))

    def _warning(self, method: str, warning: str, detail: Any = None) -> None:
        with self._lock:
            self.warnings.append(Violation(method, warning, detail))

    # ------------------------------------------------------------------ HTTP entry
    def _http(self, h: _Handler, verb: str, body: bytes) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        path = parsed.path
        try:
            if path.startswith("/api/"):
                self._http_api(h, verb, path[len("/api/") :], parsed.query, body)
            elif path in ("/link", "/link/"):
                self._socket_serve(h, verb, parsed.query)
            elif path.startswith("/responses/") and verb == "POST":
                status, text = self._http_response_url(path[len("/responses/") :], h.headers, body)
                h.send(status, text.encode(), "text/html")
            else:
                h.send(404, b"not found", "text/plain")
        except Exception as e:  # never kill the server thread
            log.exception("FakeSlack internal error")
            self._violation("fake", "fatal_error", repr(e))
            try:
                h.send(500, json.dumps({"ok": False, "error": "fatal_error"}).encode(), "application/json")
            except OSError:
                log.debug("could not answer after an internal error")

    def _parse_args(self, h: _Handler, query: str, body: bytes) -> dict:
        args: dict[str, Any] = {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        if body:
            ctype = (h.headers.get("Content-Type") or "").lower()
            if "application/json" in ctype:
                data = json.loads(body.decode("utf-8"))
                if not isinstance(data, dict):
                    raise _ApiError("invalid_json")
                args.update(data)
            elif "multipart/form-data" in ctype:
                raise _ApiError("invalid_form_data", detail="multipart uploads are not supported by the fake")
            else:
                args.update(
                    {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
                )
        return args

    def _http_api(self, h: _Handler, verb: str, method: str, query: str, body: bytes) -> None:
        status, headers = 200, {}
        try:
            args = self._parse_args(h, query, body)
        except _ApiError as e:
            args, result = {}, {"ok": False, "error": e.error}
        except (ValueError, UnicodeDecodeError):
            args, result = {}, {"ok": False, "error": "invalid_json"}
        else:
            result = None
        auth = h.headers.get("Authorization") or ""
        in_header = auth.lower().startswith("bearer ")
        token = auth[7:].strip() if in_header else args.pop("token", None)
        args.pop("token", None)
        call = Call(method, args)
        call.http_method = verb
        call.time = self.now()
        call.delay = 0.0
        call.injected = None
        delay = fault = None
        self._await_submission_ack(method, args)
        with self._lock:
            # Faults are matched when the request arrives, so "the next N calls" is in arrival order.
            self.calls.append(call)
            if result is None:
                delay = self._take(self._delays, method, args)
                fault = self._take(self._faults, method, args)
        if delay is not None:
            call.delay = delay.seconds
            # Sleep without the lock: other calls go on meanwhile.
            if not delay.apply_first and self._stopped.wait(delay.seconds):
                return  # the fake stopped: no answer
        content_type, raw = "application/json; charset=utf-8", None
        with self._lock:
            if result is not None:
                self._violation(method, result["error"], "unparseable request body")
            elif fault is not None:
                status, headers = fault.status, dict(fault.headers)
                if fault.kind == "server_error":
                    content_type = "text/html; charset=utf-8"
                    raw = _server_error_page(status)
                else:
                    result = {"ok": False, "error": fault.error}
                call.injected = self._record_injected(method, fault.error, status, args, fault.kind)
            else:
                try:
                    result = self._api(method, token, args, token_in_header=in_header)
                except _ApiError as e:
                    result = {"ok": False, "error": e.error}
                    result.update(e.extra)
                    if e.messages:
                        result["response_metadata"] = {"messages": e.messages}
                    status, headers = e.status, e.headers
                    if e.injected:
                        call.injected = self._record_injected(method, e.error, status, args, e.injected)
                    else:
                        self._violation(method, e.error, e.detail or e.messages or _short(args))
            call.ok = bool(result and result.get("ok"))
            call.error = result.get("error") if result else None
            call.response = result
            call.status = status
        if delay is not None and delay.apply_first and self._stopped.wait(delay.seconds):
            return
        if raw is None:
            scopes = self.app_token_scopes if token and token == self.app_token else self.scopes
            headers = {**headers, "X-OAuth-Scopes": ",".join(sorted(scopes))}
            raw = json.dumps(result).encode()
        try:
            h.send(status, raw, content_type, headers)
        except OSError as e:  # the client gave up (e.g. its timeout fired during a delay)
            log.debug("FakeSlack could not answer %s: %r", method, e)

    # ------------------------------------------------------------------ Web API
    def _api(self, method: str, token: str | None, args: dict, *, token_in_header: bool = True) -> dict:
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            raise _ApiError("unknown_method", detail=f"the fake does not implement {method}")
        if not token:
            raise _ApiError("not_authed")
        if method in _APP_LEVEL_METHODS:
            self._check_app_token(method, token, token_in_header)
            return {"ok": True, **handler(args)}
        if token.startswith("xapp-"):
            if token == self.app_token:
                raise _ApiError("not_allowed_token_type", detail=f"{method} takes a bot token, not the app-level token")
            raise _ApiError("invalid_auth")
        if token != self.bot_token:
            raise _ApiError("invalid_auth")
        needed = _SCOPES_FOR_METHOD.get(method)
        if needed:
            self._require_scope(needed)
        self._rate_limit(method, args)
        result = handler(args)
        return {"ok": True, **result}

    def _check_app_token(self, method: str, token: str, token_in_header: bool) -> None:
        """apps.connections.open: only the app-level token, and only in the Authorization header."""
        if not token.startswith("xapp-"):
            raise _ApiError("not_allowed_token_type", detail=f"{method} takes an app-level token (xapp-...)")
        if self.app_token is None or token != self.app_token:
            raise _ApiError("invalid_auth")
        if not token_in_header:
            raise _ApiError("invalid_auth", detail=f"{method} takes the token in the Authorization header only")
        if "connections:write" not in self.app_token_scopes:
            raise _ApiError(
                "missing_scope",
                extra={"needed": "connections:write", "provided": ",".join(sorted(self.app_token_scopes))},
            )

    def _require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise _ApiError("missing_scope", extra={"needed": scope, "provided": ",".join(sorted(self.scopes))})

    def _rate_limit(self, method: str, args: dict) -> None:
        if not self.enforce_rate_limits:
            return
        now = self.now()
        if method == "chat.postMessage":
            key, window, limit = (method, str(args.get("channel"))), 1.0, 5
        elif method == "chat.update":
            key, window, limit = (method,), 60.0, 50
        else:
            return
        q = self._rate.setdefault(key, deque())
        while q and q[0] <= now - window:
            q.popleft()
        if len(q) >= limit:
            retry = max(1, int(q[0] + window - now + 0.999))
            raise _ApiError("ratelimited", status=429, headers={"Retry-After": str(retry)})
        q.append(now)

    # -- helpers
    @staticmethod
    def _json_arg(args: dict, key: str, error: str) -> Any:
        value = args.get(key)
        if isinstance(value, str):
            if value.strip() == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                raise _ApiError(error, detail=f"{key} is not valid JSON") from None
        return value

    def _resolve_channel(self, channel: Any) -> Channel:
        if not channel or not isinstance(channel, str):
            raise _ApiError("channel_not_found", detail=f"channel={channel!r}")
        if channel in self.channels:
            return self.channels[channel]
        if channel.startswith(("U", "W")):
            user = self.users.get(channel)
            if user is None or user.get("deleted"):
                raise _ApiError("channel_not_found", detail=f"unknown user {channel}")
            return self._dm_locked(channel)
        name = channel.lstrip("#")
        for ch in self.channels.values():
            if ch.name == name and not ch.is_im:
                return ch
        for ch in self._deleted_channels.values():
            if channel == ch.id or name == ch.name:
                raise _ApiError("channel_not_found", detail=f"{ch.id} was deleted", injected="delete_channel")
        raise _ApiError("channel_not_found", detail=f"channel={channel!r}")

    def _check_can_post(self, ch: Channel) -> None:
        states = self._fault_states.get(ch.id, ())
        if ch.is_archived:
            raise _ApiError("is_archived", detail=ch.id, injected="archive_channel" if "archived" in states else None)
        self._check_bot_member(ch, public_needs_scope=True)

    def _check_bot_member(self, ch: Channel, *, public_needs_scope: bool) -> None:
        if ch.bot_member or ch.is_im:
            return
        injected = "set_bot_member" if "not_member" in self._fault_states.get(ch.id, ()) else None
        if ch.is_private:
            # Slack hides private channels the bot isn't in.
            raise _ApiError(
                "channel_not_found", detail=f"{ch.id} is private and the bot is not a member", injected=injected
            )
        if public_needs_scope and "chat:write.public" not in self.scopes:
            raise _ApiError("not_in_channel", detail=f"bot is not a member of {ch.id}", injected=injected)

    def _check_can_read(self, ch: Channel) -> None:
        if ch.is_im:
            self._require_scope("im:read")
        elif ch.is_private:
            self._require_scope("groups:read")
            if not ch.bot_member:
                raise _ApiError("channel_not_found")
        else:
            self._require_scope("channels:read")

    def _validate_message_content(self, method: str, args: dict, *, require_content: bool = True) -> tuple:
        text = args.get("text")
        if text is not None and not isinstance(text, str):
            text = str(text)
        blocks = self._json_arg(args, "blocks", "invalid_blocks_format")
        attachments = self._json_arg(args, "attachments", "invalid_attachments")
        if blocks is not None and not isinstance(blocks, list):
            raise _ApiError("invalid_blocks_format", detail="blocks must be a JSON array")
        if attachments is not None and not isinstance(attachments, list):
            raise _ApiError("invalid_attachments", detail="attachments must be a JSON array")
        if require_content and not text and not blocks and not attachments:
            raise _ApiError("no_text")
        if text and len(text) > MAX_MESSAGE_TEXT:
            raise _ApiError("msg_too_long", detail=f"text has {len(text)} characters")
        if blocks:
            errs = validate_blocks(blocks, "message", self.action_id_scope)
            if errs:
                raise _ApiError("invalid_blocks", messages=errs)
            if not text:
                self._warning(
                    method,
                    "missing_text_fallback",
                    "blocks given without a top-level text (used for notifications/accessibility)",
                )
        for i, att in enumerate(attachments or []):
            if isinstance(att, dict) and att.get("blocks"):
                errs = validate_blocks(att["blocks"], "message", self.action_id_scope)
                if errs:
                    raise _ApiError(
                        "invalid_attachments",
                        messages=[
                            e.replace("json-pointer:/blocks", f"json-pointer:/attachments/{i}/blocks") for e in errs
                        ],
                    )
        metadata = self._json_arg(args, "metadata", "invalid_metadata_format")
        if metadata is not None and (
            not isinstance(metadata, dict) or "event_type" not in metadata or "event_payload" not in metadata
        ):
            raise _ApiError("invalid_metadata_format")
        return (text or "", _normalize_blocks(blocks) if blocks else None, attachments, metadata)

    def _store_message(self, ch: Channel, msg: Message, thread_ts: str | None, method: str) -> Message:
        msg.team = self.team_id
        if thread_ts:
            parent = self._index.get((ch.id, thread_ts))
            if parent is not None and parent.is_reply:
                self._violation(
                    method,
                    "thread_ts_is_a_reply",
                    f"thread_ts {thread_ts} is itself a reply; Slack says to use the parent's ts",
                )
                parent = self._index.get((ch.id, parent.thread_ts))
            if parent is None:
                # Slack answers ok, but the reply hangs off a non-existent parent and is
                # invisible in the channel: a real bug in the app.
                msg.thread_ts = thread_ts
                msg.orphan = True
                self.orphans.append(msg)
                self._index[(ch.id, msg.ts)] = msg
                self._violation(
                    method,
                    "thread_not_found",
                    f"thread_ts {thread_ts!r} matches no message in {ch.id}; Slack answers ok but the reply is invisible",
                )
                return msg
            msg.thread_ts = parent.ts
            parent.replies.append(msg)
            if msg.reply_broadcast:
                self._messages[ch.id].append(msg)
        else:
            msg.reply_broadcast = False
            self._messages[ch.id].append(msg)
        self._index[(ch.id, msg.ts)] = msg
        return msg

    def _bot_message(
        self, ch: Channel, text, blocks, attachments=None, metadata=None, source="chat.postMessage"
    ) -> Message:
        return Message(
            ts=self._new_ts(),
            channel=ch.id,
            text=text,
            blocks=blocks,
            attachments=attachments,
            metadata=metadata,
            user=self.bot_user_id,
            bot_id=self.bot_id,
            app_id=self.app_id,
            source=source,
        )

    def _bot_profile(self) -> dict:
        return {
            "id": self.bot_id,
            "app_id": self.app_id,
            "name": self.bot_name,
            "icons": {"image_36": "", "image_48": "", "image_72": ""},
            "deleted": False,
            "updated": int(self.now()),
            "team_id": self.team_id,
        }

    # -- auth
    def _m_auth_test(self, args: dict) -> dict:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_api_test(self, args: dict) -> dict:
        return {"args": args}

    # -- chat
    def _m_chat_postMessage(self, args: dict) -> dict:
        ch = self._resolve_channel(args.get("channel"))
        self._check_can_post(ch)
        text, blocks, attachments, metadata = self._validate_message_content("chat.postMessage", args)
        msg = self._bot_message(ch, text, blocks, attachments, metadata)
        msg.reply_broadcast = _as_bool(args.get("reply_broadcast"))
        thread_ts = args.get("thread_ts")
        if thread_ts is not None and not isinstance(thread_ts, str):
            thread_ts = str(thread_ts)
        self._store_message(ch, msg, thread_ts or None, "chat.postMessage")
        out = msg.to_slack()
        out["bot_profile"] = self._bot_profile()
        return {"channel": ch.id, "ts": msg.ts, "message": out}

    def _m_chat_update(self, args: dict) -> dict:
        ch = self._resolve_channel(args.get("channel"))
        if ch.is_archived:
            # chat.update's error for archived channels is is_inactive, not is_archived.
            injected = "archive_channel" if "archived" in self._fault_states.get(ch.id, ()) else None
            raise _ApiError("is_inactive", detail=f"{ch.id} is archived", injected=injected)
        # A private channel the bot left is invisible to it; in a public one it may still
        # edit its own messages (chat.update documents no not_in_channel).
        self._check_bot_member(ch, public_needs_scope=False)
        ts = args.get("ts")
        msg = self._index.get((ch.id, str(ts)))
        if msg is None or msg.deleted:
            raise _ApiError("message_not_found", detail=f"{ch.id}/{ts}")
        if msg.bot_id != self.bot_id:
            raise _ApiError("cant_update_message", detail=f"{ch.id}/{ts} was not posted by this app")
        has_text = args.get("text") is not None
        has_blocks = args.get("blocks") is not None
        has_att = args.get("attachments") is not None
        if not (has_text or has_blocks or has_att):
            raise _ApiError("no_text")
        text, blocks, attachments, metadata = self._validate_message_content("chat.update", args, require_content=False)
        msg.edits.append(msg.snapshot())
        if has_text:
            msg.text = text
        if has_blocks:
            msg.blocks = blocks  # an empty list removes the blocks
        if has_att:
            msg.attachments = attachments
        if metadata is not None:
            msg.metadata = metadata
        msg.edited = {"user": self.bot_user_id, "ts": self._new_ts()}
        return {"channel": ch.id, "ts": msg.ts, "text": msg.text, "message": msg.to_slack()}

    def _m_chat_delete(self, args: dict) -> dict:
        ch = self._resolve_channel(args.get("channel"))
        ts = str(args.get("ts"))
        msg = self._index.get((ch.id, ts))
        if msg is None or msg.deleted:
            raise _ApiError("message_not_found", detail=f"{ch.id}/{ts}")
        if msg.bot_id != self.bot_id:
            raise _ApiError("cant_delete_message", detail=f"{ch.id}/{ts} was not posted by this app")
        msg.deleted = True
        return {"channel": ch.id, "ts": ts}

    def _m_chat_postEphemeral(self, args: dict) -> dict:
        ch = self._resolve_channel(args.get("channel"))
        self._check_can_post(ch)
        user = args.get("user")
        if not user or user not in self.users:
            raise _ApiError("user_not_found", detail=f"user={user!r}")
        if not ch.is_im and user not in ch.members:
            raise _ApiError("user_not_in_channel", detail=f"{user} is not a member of {ch.id}")
        if ch.is_im and ch.im_user != user:
            raise _ApiError("user_not_in_channel", detail=f"{user} is not in DM {ch.id}")
        text, blocks, attachments, _meta = self._validate_message_content("chat.postEphemeral", args)
        eph = Ephemeral(
            ts=self._new_ts(),
            channel=ch.id,
            user=user,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=args.get("thread_ts") or None,
        )
        self._ephemerals.append(eph)
        return {"message_ts": eph.ts}

    def _m_chat_getPermalink(self, args: dict) -> dict:
        ch = self._resolve_channel(args.get("channel"))
        ts = str(args.get("message_ts"))
        msg = self._index.get((ch.id, ts))
        if msg is None or msg.deleted:
            raise _ApiError("message_not_found", detail=f"{ch.id}/{ts}")
        link = f"https://{self.team_domain}.slack.com/archives/{ch.id}/p{ts.replace('.', '')}"
        if msg.is_reply:
            link += f"?thread_ts={msg.thread_ts}&cid={ch.id}"
        return {"channel": ch.id, "permalink": link}

    # -- conversations
    def _m_conversations_info(self, args: dict) -> dict:
        ch = self._resolve_channel(args.get("channel"))
        self._check_can_read(ch)
        return {"channel": ch.to_slack(self.bot_user_id)}

    def _m_conversations_members(self, args: dict) -> dict:
        ch = self._resolve_channel(args.get("channel"))
        self._check_can_read(ch)
        members = sorted(ch.members | ({self.bot_user_id} if ch.bot_member else set()))
        return {"members": members, "response_metadata": {"next_cursor": ""}}

    def _m_conversations_open(self, args: dict) -> dict:
        if args.get("channel"):
            ch = self._resolve_channel(args["channel"])
            return {"channel": {"id": ch.id}}
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise _ApiError("users_list_not_supplied")
        for u in users:
            if u not in self.users:
                raise _ApiError("user_not_found", detail=u)
        if len(users) == 1:
            self._require_scope("im:write")
            existed = any(c.is_im and c.im_user == users[0] for c in self.channels.values())
            ch = self._dm_locked(users[0])
            out = {"channel": ch.to_slack(self.bot_user_id) if _as_bool(args.get("return_im")) else {"id": ch.id}}
            if existed:
                out["no_op"] = True
                out["already_open"] = True
            return out
        self._require_scope("mpim:write")
        key = ",".join(sorted(users))
        for c in self.channels.values():
            if c.is_mpim and c.name == "mpdm-" + key:
                return {"channel": {"id": c.id}, "no_op": True, "already_open": True}
        cid = _rand_id("G", 9)
        ch = Channel(
            id=cid,
            name="mpdm-" + key,
            is_private=True,
            members=set(users),
            bot_member=True,
            is_mpim=True,
            created=int(self.now()),
        )
        self.channels[cid] = ch
        self._messages.setdefault(cid, [])
        return {"channel": {"id": cid}}

    def _history_scope(self, ch: Channel) -> None:
        if ch.is_im:
            self._require_scope("im:history")
        elif ch.is_mpim:
            self._require_scope("mpim:history")
        elif ch.is_private:
            self._require_scope("groups:history")
        else:
            self._require_scope("channels:history")
        if not ch.bot_member and not ch.is_im:
            raise _ApiError("not_in_channel")

    def _m_conversations_history(self, args: dict) -> dict:
        ch = self._resolve_channel(args.get("channel"))
        self._history_scope(ch)
        msgs = [m.to_slack() for m in reversed(self._messages.get(ch.id, [])) if not m.deleted]
        limit = int(args.get("limit") or 100)
        return {"messages": msgs[:limit], "has_more": len(msgs) > limit, "response_metadata": {"next_cursor": ""}}

    def _m_conversations_replies(self, args: dict) -> dict:
        ch = self._resolve_channel(args.get("channel"))
        self._history_scope(ch)
        parent = self._index.get((ch.id, str(args.get("ts"))))
        if parent is None or parent.deleted:
            raise _ApiError("thread_not_found")
        if parent.is_reply:
            parent = self._index[(ch.id, parent.thread_ts)]
        msgs = [parent.to_slack()] + [r.to_slack() for r in parent.replies if not r.deleted]
        return {"messages": msgs, "has_more": False, "response_metadata": {"next_cursor": ""}}

    # -- users
    def _user_json(self, u: dict) -> dict:
        label, offset = _tz_info(u["tz"])
        profile = {
            "real_name": u["real_name"],
            "real_name_normalized": u["real_name"],
            "display_name": u["display_name"],
            "display_name_normalized": u["display_name"],
            "first_name": u["real_name"].split(" ")[0],
            "last_name": " ".join(u["real_name"].split(" ")[1:]),
            "title": "",
            "phone": "",
            "status_text": "",
            "status_emoji": "",
            "image_48": "",
            "team": self.team_id,
        }
        if u.get("email") and "users:read.email" in self.scopes:
            profile["email"] = u["email"]
        if u["is_bot"]:
            profile["bot_id"] = self.bot_id if u["id"] == self.bot_user_id else None
        return {
            "id": u["id"],
            "team_id": self.team_id,
            "name": u["name"],
            "deleted": u["deleted"],
            "color": "9f69e7",
            "real_name": u["real_name"],
            "tz": u["tz"],
            "tz_label": label,
            "tz_offset": offset,
            "profile": profile,
            "is_admin": u["is_admin"],
            "is_owner": u["is_owner"],
            "is_primary_owner": False,
            "is_restricted": u["is_restricted"],
            "is_ultra_restricted": False,
            "is_bot": u["is_bot"],
            "is_app_user": False,
            "updated": int(self.now()),
            "is_email_confirmed": bool(u.get("email")),
        }

    def _m_users_info(self, args: dict) -> dict:
        u = self.users.get(args.get("user") or "")
        if u is None:
            raise _ApiError("user_not_found", detail=f"user={args.get('user')!r}")
        return {"user": self._user_json(u)}

    def _m_users_lookupByEmail(self, args: dict) -> dict:
        email = (args.get("email") or "").strip().lower()
        for u in self.users.values():
            if u.get("email") and u["email"].lower() == email and not u["deleted"]:
                return {"user": self._user_json(u)}
        raise _ApiError("users_not_found", detail=f"email={email!r}")

    def _m_users_list(self, args: dict) -> dict:
        return {"members": [self._user_json(u) for u in self.users.values()], "response_metadata": {"next_cursor": ""}}

    # -- views
    def _consume_trigger(self, trigger_id: Any) -> _Trigger:
        if not trigger_id:
            raise _ApiError("invalid_arguments", messages=["[ERROR] missing required field: trigger_id"])
        trig = self._triggers.get(str(trigger_id))
        if trig is None:
            raise _ApiError("invalid_trigger_id", detail=f"trigger_id={trigger_id!r} was never issued")
        if trig.used:
            raise _ApiError("exchanged_trigger_id", detail=f"trigger_id={trigger_id!r} was already used")
        age = self.now() - trig.issued
        if age > self.trigger_ttl:
            raise _ApiError(
                "expired_trigger_id", detail=f"trigger_id={trigger_id!r} is {age:.2f}s old (limit {self.trigger_ttl}s)"
            )
        trig.used = True
        return trig

    def _parse_view(self, args: dict, expect_type: str | None = None) -> dict:
        view = self._json_arg(args, "view", "invalid_arguments")
        if view is None:
            raise _ApiError("invalid_arguments", messages=["[ERROR] missing required field: view"])
        errs = validate_view(view, self.action_id_scope)
        if not errs and expect_type and view.get("type") != expect_type:
            errs = [f"[ERROR] must be {expect_type} [json-pointer:/view/type]"]
        if errs:
            raise _ApiError("invalid_arguments", messages=errs)
        if len(json.dumps(view)) > 250_000:
            raise _ApiError("view_too_large")
        return view

    def _check_external_id(self, external_id: str, except_view: str | None = None) -> None:
        if not external_id:
            return
        for v in self.views.values():
            if v.external_id == external_id and v.id != except_view and not v.closed:
                raise _ApiError("duplicate_external_id", detail=external_id)

    def _new_hash(self) -> str:
        return f"{int(self.now())}.{secrets.token_hex(4)}"

    def _make_view(self, spec: dict, user: str) -> View:
        view = View(
            id=_rand_id("V"), type=spec["type"], user=user, team_id=self.team_id, app_id=self.app_id, bot_id=self.bot_id
        )
        self._apply_view_spec(view, spec)
        self.views[view.id] = view
        return view

    def _apply_view_spec(self, view: View, spec: dict) -> None:
        old_values = view.state.get("values", {})
        view.blocks = _normalize_blocks(spec.get("blocks") or [])
        view.title = copy.deepcopy(spec.get("title"))
        view.submit = copy.deepcopy(spec.get("submit"))
        view.close = copy.deepcopy(spec.get("close"))
        view.callback_id = spec.get("callback_id") or ""
        view.private_metadata = spec.get("private_metadata") or ""
        view.external_id = spec.get("external_id") or ""
        view.clear_on_close = bool(spec.get("clear_on_close", False))
        view.notify_on_close = bool(spec.get("notify_on_close", False))
        view.submit_disabled = bool(spec.get("submit_disabled", False))
        view.hash = self._new_hash()
        view.errors = None
        # Slack keeps what the user typed for inputs whose block_id/action_id survive.
        keep: dict = {}
        for block, el in _iter_elements(view.blocks):
            prev = old_values.get(block["block_id"], {}).get(el.get("action_id"))
            if prev is not None and prev.get("type") == el.get("type"):
                keep.setdefault(block["block_id"], {})[el["action_id"]] = prev
        view.state = {"values": keep}

    def _m_views_open(self, args: dict) -> dict:
        view_spec = self._parse_view(args, expect_type="modal")
        trig = self._consume_trigger(args.get("trigger_id") or args.get("interactivity_pointer"))
        self._check_external_id(view_spec.get("external_id") or "")
        for vid in self._stacks.get(trig.user, []):
            self.views[vid].closed = True
        view = self._make_view(view_spec, trig.user)
        view.root_view_id = view.id
        self._stacks[trig.user] = [view.id]
        return {"view": view.to_slack()}

    def _m_views_push(self, args: dict) -> dict:
        view_spec = self._parse_view(args, expect_type="modal")
        trig = self._consume_trigger(args.get("trigger_id") or args.get("interactivity_pointer"))
        stack = self._stacks.get(trig.user) or []
        if not stack:
            raise _ApiError(
                "invalid_arguments", messages=["[ERROR] views.push needs an open modal for this user (use views.open)"]
            )
        if len(stack) >= MAX_VIEW_STACK:
            raise _ApiError("push_limit_reached")
        self._check_external_id(view_spec.get("external_id") or "")
        view = self._make_view(view_spec, trig.user)
        view.root_view_id = self.views[stack[0]].id
        view.previous_view_id = stack[-1]
        stack.append(view.id)
        return {"view": view.to_slack()}

    def _find_view(self, args: dict) -> View:
        vid, ext = args.get("view_id"), args.get("external_id")
        if not vid and not ext:
            raise _ApiError("invalid_arguments", messages=["[ERROR] either view_id or external_id is required"])
        view = None
        if vid:
            view = self.views.get(vid)
        else:
            for v in self.views.values():
                if v.external_id == ext and not v.closed:
                    view = v
        if view is None or view.closed:
            raise _ApiError("not_found", detail=f"view_id={vid!r} external_id={ext!r} (unknown or closed)")
        return view

    def _m_views_update(self, args: dict) -> dict:
        view = self._find_view(args)
        spec = self._parse_view(args, expect_type=view.type)
        if args.get("hash") and args["hash"] != view.hash:
            raise _ApiError("hash_conflict", detail=f"hash {args['hash']} != current {view.hash}")
        self._check_external_id(spec.get("external_id") or "", except_view=view.id)
        view.history.append(view.to_slack())
        self._apply_view_spec(view, spec)
        return {"view": view.to_slack()}

    def _m_views_publish(self, args: dict) -> dict:
        user = args.get("user_id")
        if not user or user not in self.users:
            raise _ApiError("user_not_found", detail=f"user_id={user!r}")
        spec = self._parse_view(args, expect_type="home")
        current = self.home(user)
        if args.get("hash") and current is not None and args["hash"] != current.hash:
            raise _ApiError("hash_conflict", detail=f"hash {args['hash']} != current {current.hash}")
        if current is None:
            current = self._make_view(spec, user)
            self._homes[user] = current.id
        else:
            current.history.append(current.to_slack())
            self._apply_view_spec(current, spec)
        return {"view": current.to_slack()}

    # ------------------------------------------------------------------ response_url
    def _issue_response_url(self, source: str, user: str, channel: str | None, message_ref=None, ephemeral=None) -> str:
        rid = f"{self.team_id}/{random.randint(10**11, 10**12 - 1)}/{secrets.token_hex(12)}"
        url = f"{self.base_url}/responses/{rid}"
        self._response_urls[rid] = _ResponseUrl(
            id=rid,
            url=url,
            source=source,
            user=user,
            channel=channel,
            issued=self.now(),
            message_ref=message_ref,
            ephemeral=ephemeral,
        )
        return url

    def _http_response_url(self, rid: str, headers, body: bytes) -> tuple[int, str]:
        with self._lock:
            ru = self._response_urls.get(rid)
            if ru is None:
                self._violation("response_url", "no_service", f"unknown response_url {rid}")
                return 404, "no_service"
            try:
                payload = json.loads(body.decode("utf-8")) if body else {}
            except ValueError:
                payload = None
            if not isinstance(payload, dict):
                self._violation("response_url", "invalid_payload", body[:200])
                return 400, "invalid_payload"
            post = ResponsePost(
                url=ru.url,
                source=ru.source,
                user=ru.user,
                channel=ru.channel,
                payload=payload,
                response_type=payload.get("response_type") or "ephemeral",
                replace_original=_as_bool(payload.get("replace_original")),
                delete_original=_as_bool(payload.get("delete_original")),
                text=payload.get("text"),
                blocks=payload.get("blocks"),
                thread_ts=payload.get("thread_ts"),
            )
            self._responses.append(post)
            if self.now() - ru.issued > RESPONSE_URL_TTL:
                post.status, post.error = 404, "expired_url"
            elif ru.uses >= RESPONSE_URL_MAX_USES:
                post.status, post.error = 404, "used_url"
            else:
                ru.uses += 1
                try:
                    post.result = self._apply_response_url(ru, payload, post)
                except _ApiError as e:
                    post.status, post.error = (400 if e.status == 200 else e.status, e.error)
                    post.messages = e.messages
            if post.error:
                self._violation("response_url", post.error, post.messages or _short(payload))
                return post.status, post.error
            return 200, "ok"

    def _apply_response_url(self, ru: _ResponseUrl, payload: dict, post: ResponsePost):
        if payload.get("response_type") not in (None, "ephemeral", "in_channel"):
            raise _ApiError("invalid_response_type")
        if post.delete_original:
            return self._delete_original(ru)
        text, blocks, attachments, _meta = self._validate_message_content("response_url", payload)
        if post.replace_original:
            return self._replace_original(ru, text, blocks, attachments)
        ch = self.channels.get(ru.channel) if ru.channel else None
        if ch is None:
            raise _ApiError("channel_not_found", detail=f"response_url has no channel ({ru.source})")
        if post.response_type == "in_channel":
            msg = self._bot_message(ch, text, blocks, attachments, source="response_url")
            msg.command_user = ru.user if ru.source == "command" else None
            return self._store_message(ch, msg, post.thread_ts, "response_url")
        eph = Ephemeral(
            ts=self._new_ts(),
            channel=ch.id,
            user=ru.user,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=post.thread_ts,
            source="response_url",
        )
        self._ephemerals.append(eph)
        return eph

    def _original(self, ru: _ResponseUrl):
        if ru.ephemeral is not None:
            return ru.ephemeral
        if ru.message_ref is not None:
            return self._index.get(ru.message_ref)
        return None

    def _replace_original(self, ru: _ResponseUrl, text, blocks, attachments):
        orig = self._original(ru)
        if orig is None or orig.deleted:
            raise _ApiError("message_not_found", detail=f"replace_original from a {ru.source} has no original message")
        if isinstance(orig, Message) and orig.bot_id != self.bot_id:
            raise _ApiError("cant_update_message", detail="the original message was not posted by this app")
        orig.edits.append(orig.snapshot())
        orig.text, orig.blocks, orig.attachments = text, blocks, attachments
        if isinstance(orig, Message):
            orig.edited = {"user": self.bot_user_id, "ts": self._new_ts()}
        return orig

    def _delete_original(self, ru: _ResponseUrl):
        orig = self._original(ru)
        if orig is None or orig.deleted:
            raise _ApiError("message_not_found", detail=f"delete_original from a {ru.source} has no original message")
        if isinstance(orig, Message) and orig.bot_id != self.bot_id:
            raise _ApiError("cant_delete_message", detail="the original message was not posted by this app")
        orig.deleted = True
        return orig

    # ------------------------------------------------------------------ Slack -> app
    def issue_trigger(self, user: str, source: str = "test", view_id: str | None = None) -> str:
        """Issue a trigger_id as Slack would for an interaction by ``user``."""
        with self._lock:
            now = self.now()
            tid = f"{int(now * 1000)}.{random.randint(10**9, 10**10 - 1)}.{secrets.token_hex(16)}"
            self._triggers[tid] = _Trigger(id=tid, user=user, issued=now, source=source, view_id=view_id)
            return tid

    def sign(self, body: bytes | str, timestamp: int | str, secret: str | None = None) -> str:
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        base = f"v0:{timestamp}:{body}".encode()
        key = (secret if secret is not None else self.signing_secret).encode()
        return "v0=" + hmac.new(key, base, hashlib.sha256).hexdigest()

    def _team(self) -> dict:
        return {"id": self.team_id, "domain": self.team_domain}

    def _user_ref(self, user: str) -> dict:
        u = self.users.get(user) or {"name": user}
        return {"id": user, "username": u["name"], "name": u["name"], "team_id": self.team_id}

    def _channel_name(self, ch: Channel | None, channel_id: str) -> str:
        if ch is None:
            return channel_id
        if ch.is_im:
            return "directmessage"
        if ch.is_mpim:
            return ch.name
        if ch.is_private and not ch.bot_member:
            return "privategroup"
        return ch.name

    def _default_user(self) -> str:
        for uid, u in self.users.items():
            if not u["is_bot"]:
                return uid
        raise ValueError("add a user with add_user() first")

    def _post_to_app(
        self,
        kind: str,
        body: bytes,
        content_type: str,
        payload: Any,
        *,
        sign: bool = True,
        secret: str | None = None,
        timestamp: int | str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        headers: dict | None = None,
        raw: bool = False,
    ) -> AppResponse:
        if self._transport == "socket":
            return self._socket_post(
                kind,
                payload,
                sign=sign,
                secret=secret,
                timestamp=timestamp,
                retry_num=retry_num,
                retry_reason=retry_reason,
                headers=headers,
                raw=raw,
            )
        if not self.app_url:
            raise RuntimeError("set FakeSlack.app_url to the app's POST /slack/events URL first")
        ts = str(int(time.time())) if timestamp is None else str(timestamp)
        if raw:
            hdrs = {"Content-Type": content_type}
        else:
            hdrs = {
                "Content-Type": content_type,
                "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
                "Accept": "application/json,*/*",
                "X-Slack-Request-Timestamp": ts,
            }
            if sign:
                hdrs["X-Slack-Signature"] = self.sign(body, ts, secret)
            if retry_num is not None:
                hdrs["X-Slack-Retry-Num"] = str(retry_num)
                hdrs["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        if headers:
            hdrs.update(headers)
        start = time.perf_counter()
        if self.fanout:
            with concurrent.futures.ThreadPoolExecutor(len(self.fanout)) as pool:
                answers = list(pool.map(lambda url: self._deliver(url, body, hdrs), self.fanout))
            status, rh, data = answers[0]
        else:
            status, rh, data = self._deliver(self.app_url, body, hdrs)
        elapsed = time.perf_counter() - start
        resp = AppResponse(
            kind,
            payload,
            status,
            {k.lower(): v for k, v in (rh.items() if rh else [])},
            data.decode("utf-8", "replace"),
            elapsed,
        )
        resp.signed_ok = (
            not raw and sign and (secret is None or secret == self.signing_secret) and abs(int(ts) - time.time()) <= 300
        )
        with self._lock:
            self.app_requests.append(resp)
        if resp.signed_ok:
            if status == 0:
                self._violation(kind, "dispatch_failed", f"could not reach the app: {resp.body}")
            elif elapsed > self.ack_deadline:
                resp.timed_out = True
                err = "http_timeout" if kind == "event" else "operation_timeout"
                self._violation(kind, err, f"the app answered after {elapsed:.2f}s (> {self.ack_deadline}s)")
            elif status != 200:
                err = "http_error" if kind == "event" else "dispatch_failed"
                self._violation(kind, err, f"HTTP {status}: {resp.body[:300]}")
        return resp

    def _deliver(self, url: str, body: bytes, hdrs: dict) -> tuple[int, Any, bytes]:
        req = urllib.request.Request(url, data=body, headers=hdrs, method="POST")
        try:
            with self._opener.open(req, timeout=self.app_timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()
        except (urllib.error.URLError, OSError) as e:
            return 0, {}, str(e).encode()

    def _ack_json(self, resp: AppResponse) -> Any:
        if not resp.body.strip():
            return None
        try:
            return json.loads(resp.body)
        except ValueError:
            return resp.body

    # -- slash commands
    def command(
        self,
        command: str,
        text: str = "",
        user: str | None = None,
        channel: str | None = None,
        retry_num: int | None = None,
        timestamp: int | str | None = None,
        sign: bool = True,
        secret: str | None = None,
    ) -> AppResponse:
        """Invoke a slash command as ``user`` in ``channel`` and apply the app's ack."""
        user = user or self._default_user()
        with self._lock:
            if channel is None:
                channel = next((c.id for c in self.channels.values() if not c.is_im), None) or self.dm(user)
            channel = self._chan_key(channel)
            ch = self.channels.get(channel)
            trigger_id = self.issue_trigger(user, "command")
            response_url = self._issue_response_url("command", user, channel)
            uname = (self.users.get(user) or {"name": user})["name"]
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": self._channel_name(ch, channel),
            "user_id": user,
            "user_name": uname,
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        body = urllib.parse.urlencode(fields).encode()
        resp = self._post_to_app(
            "command",
            body,
            "application/x-www-form-urlencoded",
            fields,
            sign=sign,
            secret=secret,
            timestamp=timestamp,
            retry_num=retry_num,
        )
        resp.trigger_id, resp.response_url = trigger_id, response_url
        if resp.ok and resp.signed_ok:
            self._apply_command_ack(resp, user, channel)
        return resp

    def _apply_command_ack(self, resp: AppResponse, user: str, channel: str) -> None:
        ack = self._ack_json(resp)
        if ack is None:
            return
        if isinstance(ack, str):
            ack = {"text": ack}
        if not isinstance(ack, dict):
            self._violation("command", "invalid_ack", resp.body[:300])
            return
        with self._lock:
            try:
                text, blocks, attachments, _m = self._validate_message_content("command_ack", ack)
            except _ApiError as e:
                self._violation("command", e.error, e.messages or e.detail)
                return
            ch = self.channels.get(channel)
            if ack.get("response_type") == "in_channel" and ch is not None:
                msg = self._bot_message(ch, text, blocks, attachments, source="command_ack")
                msg.command_user = user
                self._store_message(ch, msg, None, "command_ack")
                resp.message = msg
                resp.applied.append(f"posted in_channel message {msg.ts}")
            else:
                eph = Ephemeral(
                    ts=self._new_ts(),
                    channel=channel,
                    user=user,
                    text=text,
                    blocks=blocks,
                    attachments=attachments,
                    source="command_ack",
                )
                self._ephemerals.append(eph)
                resp.ephemeral = eph
                resp.applied.append(f"showed ephemeral {eph.ts}")

    # -- interactivity
    def _find_element(
        self, blocks: list, action_id: str, block_id: str | None, value: Any, where: str
    ) -> tuple[dict, dict]:
        found = [
            (b, el)
            for b, el in _iter_elements(blocks)
            if el.get("action_id") == action_id and (block_id is None or b.get("block_id") == block_id)
        ]
        if len(found) > 1 and value is not None:
            narrowed = [(b, el) for b, el in found if el.get("type") == "button" and el.get("value") == value]
            found = narrowed or found
        if not found:
            ids = [el.get("action_id") for _b, el in _iter_elements(blocks)]
            raise ValueError(f"no element with action_id={action_id!r} in {where}; action_ids there: {ids}")
        if len(found) > 1:
            raise ValueError(f"action_id={action_id!r} is ambiguous in {where}; pass block_id=")
        return found[0]

    def _options_of(self, el: dict) -> list[dict]:
        opts = list(el.get("options") or [])
        for group in el.get("option_groups") or []:
            opts += group.get("options") or []
        return opts

    def _pick_option(self, el: dict, value: Any) -> dict:
        if isinstance(value, dict):
            return copy.deepcopy(value)
        if el["type"] in ("external_select", "multi_external_select"):
            return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": str(value)}
        for opt in self._options_of(el):
            if opt.get("value") == value:
                return copy.deepcopy(opt)
        raise ValueError(
            f"{value!r} is not an option of {el['type']} {el.get('action_id')!r}: {[o.get('value') for o in self._options_of(el)]}"
        )

    def _state_value(self, el: dict, value: Any, provided: bool) -> dict:
        """The ``state.values`` entry Slack builds for an element."""
        t = el["type"]
        out: dict[str, Any] = {"type": t}
        if t in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
            v = value if provided else el.get("initial_value")
            out["value"] = None if v is None else str(v)
        elif t == "rich_text_input":
            v = value if provided else el.get("initial_value")
            if isinstance(v, str):
                v = {
                    "type": "rich_text",
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": v}]}],
                }
            out["rich_text_value"] = v
        elif t in ("static_select", "external_select", "radio_buttons", "overflow"):
            if provided:
                out["selected_option"] = None if value is None else self._pick_option(el, value)
            else:
                out["selected_option"] = copy.deepcopy(el.get("initial_option"))
        elif t in ("multi_static_select", "multi_external_select", "checkboxes"):
            if provided:
                vals = value if isinstance(value, (list, tuple)) else [value]
                out["selected_options"] = [self._pick_option(el, v) for v in vals]
            else:
                out["selected_options"] = copy.deepcopy(el.get("initial_options") or [])
        elif t == "datepicker":
            out["selected_date"] = value if provided else el.get("initial_date")
        elif t == "timepicker":
            out["selected_time"] = value if provided else el.get("initial_time")
            if el.get("timezone"):
                out["timezone"] = el["timezone"]
        elif t == "datetimepicker":
            out["selected_date_time"] = value if provided else el.get("initial_date_time")
        elif t == "users_select":
            out["selected_user"] = value if provided else el.get("initial_user")
        elif t == "multi_users_select":
            out["selected_users"] = list(value) if provided else list(el.get("initial_users") or [])
        elif t == "conversations_select":
            out["selected_conversation"] = value if provided else el.get("initial_conversation")
        elif t == "multi_conversations_select":
            out["selected_conversations"] = list(value) if provided else list(el.get("initial_conversations") or [])
        elif t == "channels_select":
            out["selected_channel"] = value if provided else el.get("initial_channel")
        elif t == "multi_channels_select":
            out["selected_channels"] = list(value) if provided else list(el.get("initial_channels") or [])
        elif t == "file_input":
            out["files"] = list(value) if provided and value else []
        return out

    @staticmethod
    def _stateful(el: dict) -> bool:
        return el.get("type") not in ("button", "overflow", "workflow_button", "image")

    def _action(self, block: dict, el: dict, value: Any, provided: bool) -> dict:
        t = el["type"]
        if t not in ("button", "workflow_button") and not provided:
            raise ValueError(f"pass value= to choose something in the {t} {el.get('action_id')!r}")
        action: dict[str, Any] = {"action_id": el.get("action_id"), "block_id": block.get("block_id")}
        if t == "button":
            action["text"] = copy.deepcopy(el.get("text"))
            if "value" in el:
                action["value"] = el["value"]
            if "style" in el:
                action["style"] = el["style"]
            action["type"] = "button"
        else:
            state = self._state_value(el, value, provided)
            action.update(state)
            if "placeholder" in el:
                action["placeholder"] = copy.deepcopy(el["placeholder"])
            if el.get("confirm"):
                action["confirm"] = copy.deepcopy(el["confirm"])
        action["action_ts"] = f"{self.now():.6f}"
        return action

    def _message_state(self, blocks: list, clicked: dict, clicked_state: dict | None) -> dict:
        values: dict = {}
        for block, el in _iter_elements(blocks):
            if not self._stateful(el):
                continue
            entry = clicked_state if el is clicked and clicked_state else self._state_value(el, None, False)
            values.setdefault(block["block_id"], {})[el["action_id"]] = entry
        return {"values": values}

    def click(
        self,
        channel: str,
        ts: str,
        action_id: str,
        user: str | None = None,
        value: Any = None,
        *,
        block_id: str | None = None,
    ) -> AppResponse:
        """Click/select the element ``action_id`` in the stored message (channel, ts).

        For selects/pickers ``value`` is what the user picks (an option value, a
        date, a user id, a list for multi-selects)."""
        user = user or self._default_user()
        with self._lock:
            key = self._chan_key(channel)
            msg = self._index.get((key, ts))
            if msg is None or msg.deleted:
                raise ValueError(f"no message {ts} in {channel}")
            block, el = self._find_element(msg.blocks or [], action_id, block_id, value, f"message {key}/{ts}")
            ch = self.channels.get(key)
            trigger_id = self.issue_trigger(user, "block_actions")
            response_url = self._issue_response_url("block_actions", user, key, message_ref=(key, ts))
            action = self._action(block, el, value, value is not None)
            clicked_state = {
                k: v
                for k, v in action.items()
                if k not in ("action_id", "block_id", "action_ts", "placeholder", "confirm")
            }
            container = {"type": "message", "message_ts": ts, "channel_id": key, "is_ephemeral": False}
            if msg.is_reply:
                container["thread_ts"] = msg.thread_ts
            payload = {
                "type": "block_actions",
                "user": self._user_ref(user),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "container": container,
                "trigger_id": trigger_id,
                "team": self._team(),
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": key, "name": self._channel_name(ch, key)},
                "message": msg.to_slack(),
                "state": self._message_state(msg.blocks or [], el, clicked_state if self._stateful(el) else None),
                "response_url": response_url,
                "actions": [action],
            }
        return self._send_interaction("block_actions", payload, trigger_id, response_url)

    def click_ephemeral(
        self,
        channel: str | None = None,
        ts: str | None = None,
        action_id: str | None = None,
        user: str | None = None,
        value: Any = None,
        *,
        block_id: str | None = None,
    ) -> AppResponse:
        """Click an element in an ephemeral message.  With ``ts=None`` the latest
        ephemeral (for ``user``/``channel``) containing ``action_id`` is used."""
        if action_id is None:
            raise ValueError("action_id is required")
        with self._lock:
            key = self._chan_key(channel) if channel else None
            candidates = [
                e
                for e in self._ephemerals
                if not e.deleted
                and (key is None or e.channel == key)
                and (user is None or e.user == user)
                and (ts is None or e.ts == ts)
                and any(el.get("action_id") == action_id for _b, el in _iter_elements(e.blocks or []))
            ]
            if not candidates:
                raise ValueError(
                    f"no ephemeral message with action_id={action_id!r} (channel={channel}, ts={ts}, user={user})"
                )
            eph = candidates[-1]
            user = eph.user
            block, el = self._find_element(eph.blocks or [], action_id, block_id, value, f"ephemeral {eph.ts}")
            ch = self.channels.get(eph.channel)
            trigger_id = self.issue_trigger(user, "block_actions")
            response_url = self._issue_response_url("block_actions", user, eph.channel, ephemeral=eph)
            action = self._action(block, el, value, value is not None)
            clicked_state = {
                k: v
                for k, v in action.items()
                if k not in ("action_id", "block_id", "action_ts", "placeholder", "confirm")
            }
            payload = {
                "type": "block_actions",
                "user": self._user_ref(user),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "container": {"type": "message", "message_ts": eph.ts, "channel_id": eph.channel, "is_ephemeral": True},
                "trigger_id": trigger_id,
                "team": self._team(),
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": eph.channel, "name": self._channel_name(ch, eph.channel)},
                "state": self._message_state(eph.blocks or [], el, clicked_state if self._stateful(el) else None),
                "response_url": response_url,
                "actions": [action],
            }
        return self._send_interaction("block_actions", payload, trigger_id, response_url)

    def _click_in_view(self, view: View, action_id: str, user: str, value: Any, block_id: str | None) -> AppResponse:
        with self._lock:
            block, el = self._find_element(view.blocks, action_id, block_id, value, f"view {view.id}")
            trigger_id = self.issue_trigger(user, "block_actions", view_id=view.id)
            action = self._action(block, el, value, value is not None)
            if self._stateful(el) and value is not None:
                entry = {
                    k: v
                    for k, v in action.items()
                    if k not in ("action_id", "block_id", "action_ts", "placeholder", "confirm")
                }
                view.state.setdefault("values", {}).setdefault(block["block_id"], {})[el["action_id"]] = entry
            payload = {
                "type": "block_actions",
                "user": self._user_ref(user),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "container": {"type": "view", "view_id": view.id},
                "trigger_id": trigger_id,
                "team": self._team(),
                "enterprise": None,
                "is_enterprise_install": False,
                "view": self._view_with_full_state(view),
                "actions": [action],
            }
        return self._send_interaction("block_actions", payload, trigger_id, None)

    def click_home(self, user: str, action_id: str, value: Any = None, *, block_id: str | None = None) -> AppResponse:
        """Click an element in the user's App Home view."""
        view = self.home(user)
        if view is None:
            raise ValueError(f"no home view published for {user}")
        return self._click_in_view(view, action_id, user, value, block_id)

    def click_view(
        self, view_id: str, action_id: str, user: str | None = None, value: Any = None, *, block_id: str | None = None
    ) -> AppResponse:
        """Click/select an element inside an open modal."""
        view = self.views.get(view_id)
        if view is None or view.closed:
            raise ValueError(f"view {view_id} is not open")
        return self._click_in_view(view, action_id, user or view.user, value, block_id)

    def _send_interaction(
        self, kind: str, payload: dict, trigger_id: str | None, response_url: str | None, **kw
    ) -> AppResponse:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        resp = self._post_to_app(kind, body, "application/x-www-form-urlencoded", payload, **kw)
        resp.trigger_id, resp.response_url = trigger_id, response_url
        return resp

    # -- modals
    def _view_with_full_state(self, view: View) -> dict:
        d = view.to_slack()
        values = copy.deepcopy(view.state.get("values", {}))
        for block, el in _iter_elements(view.blocks):
            if block.get("type") == "input" or self._stateful(el):
                values.setdefault(block["block_id"], {}).setdefault(el["action_id"], self._state_value(el, None, False))
        d["state"] = {"values": values}
        return d

    def _await_submission_ack(self, method: str, args: dict) -> None:
        """An app can only call views.update/views.push on a submitted view after it sent its
        ack; Slack has applied that ack's response_action by then. Here the ack is applied by
        the client side's thread, so hold such a call until it is (at most the ack deadline)."""
        if method not in ("views.update", "views.push"):
            return
        with self._lock:
            pending = self._acking.get(str(args.get("view_id") or ""))
        if pending is not None:
            pending.wait(self.ack_deadline + 1.0)

    def submit_view(
        self, view_id: str, user: str | None = None, values: dict | None = None, *, enforce_required: bool = True
    ) -> AppResponse:
        """Press Submit on an open modal.

        ``values`` maps ``block_id`` to either ``{action_id: value}`` or (for input
        blocks) directly to the value.  Values are typed per element like Slack does.
        Inputs not given keep their initial value.  Raises ValueError for what the
        Slack client would not let a user submit (missing required input, length
        limits, unknown option)."""
        with self._lock:
            view = self.views.get(view_id)
            if view is None or view.closed or view.type != "modal":
                raise ValueError(f"modal {view_id} is not open")
            user = user or view.user
            if user != view.user:
                raise ValueError(f"view {view_id} belongs to {view.user}, not {user}")
            if not view.submit:
                raise ValueError(f"view {view_id} has no submit button")
            state = self._build_submission_state(view, values or {}, enforce_required)
            view.state = state
            trigger_id = self.issue_trigger(user, "view_submission", view_id=view.id)
            vdict = view.to_slack()
            payload = {
                "type": "view_submission",
                "team": self._team(),
                "user": self._user_ref(user),
                "api_app_id": self.app_id,
                "token": self.verification_token,
                "trigger_id": trigger_id,
                "view": vdict,
                "response_urls": [],
                "is_enterprise_install": False,
                "enterprise": None,
            }
            view.submissions.append(copy.deepcopy(state))
            acking = self._acking[view.id] = threading.Event()
        try:
            resp = self._send_interaction("view_submission", payload, trigger_id, None)
            resp.view = view
            if resp.ok and resp.signed_ok:
                self._apply_view_submission_ack(resp, view)
        finally:
            with self._lock:
                self._acking.pop(view.id, None)
            acking.set()
        return resp

    def _build_submission_state(self, view: View, values: dict, enforce_required: bool) -> dict:
        by_block = {b["block_id"]: b for b in view.blocks}
        for bid in values:
            if bid not in by_block:
                raise ValueError(f"no block_id {bid!r} in view {view.id}; block_ids: {list(by_block)}")
        out: dict = {}
        for block, el in _iter_elements(view.blocks):
            if block.get("type") != "input" and not self._stateful(el):
                continue
            bid, aid = block["block_id"], el["action_id"]
            given = values.get(bid, _MISSING)
            val, provided = None, False
            if isinstance(given, dict) and aid in given:
                val, provided = given[aid], True
            elif given is not _MISSING and block.get("type") == "input":
                if isinstance(given, dict) and not {"text", "value"} <= set(given):
                    raise ValueError(f"values[{bid!r}] has no action_id {aid!r} (got keys {list(given)})")
                val, provided = given, True  # shorthand: block_id -> value
            if provided:
                entry = self._state_value(el, val, True)
            else:
                entry = copy.deepcopy(view.state.get("values", {}).get(bid, {}).get(aid)) or self._state_value(
                    el, None, False
                )
            if block.get("type") == "input":
                self._check_input(view, block, el, entry, enforce_required)
            out.setdefault(bid, {})[aid] = entry
        return {"values": out}

    def _check_input(self, view: View, block: dict, el: dict, entry: dict, enforce_required: bool) -> None:
        empty = all(v in (None, [], "") for k, v in entry.items() if k != "type")
        where = f"input block {block['block_id']!r} of view {view.id}"
        if empty and not block.get("optional") and enforce_required:
            raise ValueError(f"{where} is required; Slack's client would not let the user submit without it")
        if el["type"] == "plain_text_input" and entry.get("value") is not None:
            n = len(entry["value"])
            if "min_length" in el and n < el["min_length"]:
                raise ValueError(f"{where}: {n} characters < min_length {el['min_length']}")
            if n > el.get("max_length", MAX_TEXT_INPUT_LENGTH):
                raise ValueError(f"{where}: {n} characters > max_length")

    def _apply_view_submission_ack(self, resp: AppResponse, view: View) -> None:
        ack = self._ack_json(resp)
        with self._lock:
            if ack is None:
                self._close_view_locked(view, clear=False)
                resp.applied.append(f"closed {view.id}")
                return
            if not isinstance(ack, dict):
                self._violation("view_submission", "invalid_response", f"ack body is not JSON: {resp.body[:200]}")
                return
            action = ack.get("response_action")
            if action == "errors":
                errors = ack.get("errors")
                if not isinstance(errors, dict) or not errors:
                    self._violation(
                        "view_submission", "invalid_errors", f"errors must be a non-empty object: {errors!r}"
                    )
                    return
                inputs = view.input_block_ids()
                bad = [k for k in errors if k not in inputs]
                if bad:
                    self._violation(
                        "view_submission",
                        "invalid_errors",
                        f"errors keys {bad} are not block_ids of input blocks in {view.id} ({sorted(inputs)})",
                    )
                view.errors = dict(errors)
                resp.applied.append(f"showed errors on {view.id}: {sorted(errors)}")
            elif action in ("update", "push"):
                spec = ack.get("view")
                errs = validate_view(spec, self.action_id_scope)
                if not errs and spec.get("type") != "modal":
                    errs = ["[ERROR] must be modal [json-pointer:/view/type]"]
                if errs:
                    self._violation("view_submission", "invalid_arguments", errs)
                    return
                if action == "update":
                    view.history.append(view.to_slack())
                    self._apply_view_spec(view, spec)
                    resp.applied.append(f"updated {view.id}")
                else:
                    stack = self._stacks.get(view.user, [])
                    if len(stack) >= MAX_VIEW_STACK:
                        self._violation("view_submission", "push_limit_reached", view.id)
                        return
                    new = self._make_view(spec, view.user)
                    new.root_view_id = stack[0] if stack else view.id
                    new.previous_view_id = view.id
                    stack.append(new.id)
                    resp.view = new
                    resp.applied.append(f"pushed {new.id}")
            elif action == "clear":
                self._close_view_locked(view, clear=True)
                resp.applied.append("cleared all views")
            else:
                self._violation("view_submission", "invalid_response_action", f"{action!r} in {resp.body[:200]}")

    def _close_view_locked(self, view: View, clear: bool) -> None:
        stack = self._stacks.get(view.user, [])
        if clear:
            for vid in stack:
                self.views[vid].closed = True
            self._stacks[view.user] = []
            return
        view.closed = True
        if view.id in stack:
            stack.remove(view.id)

    def close_view(self, view_id: str, user: str | None = None) -> AppResponse | None:
        """The user closes (cancels) a modal.  A view_closed payload is sent only when
        the view has notify_on_close; returns that response or None."""
        with self._lock:
            view = self.views.get(view_id)
            if view is None or view.closed:
                raise ValueError(f"view {view_id} is not open")
            user = user or view.user
            clear = view.clear_on_close
            payload = None
            if view.notify_on_close:
                payload = {
                    "type": "view_closed",
                    "team": self._team(),
                    "user": self._user_ref(user),
                    "api_app_id": self.app_id,
                    "token": self.verification_token,
                    "view": self._view_with_full_state(view),
                    "is_cleared": clear,
                    "is_enterprise_install": False,
                    "enterprise": None,
                }
            self._close_view_locked(view, clear=clear)
        if payload is None:
            return None
        return self._send_interaction("view_closed", payload, None, None)

    # -- events
    def event(
        self,
        event: dict,
        retry_num: int | None = None,
        *,
        retry_reason: str = "http_timeout",
        event_id: str | None = None,
        sign: bool = True,
        secret: str | None = None,
    ) -> AppResponse:
        """Deliver an Events API ``event_callback`` wrapping ``event``."""
        event = copy.deepcopy(event)
        now = self.now()
        event.setdefault("event_ts", f"{now:.6f}")
        if event.get("type") == "message":
            event.setdefault("ts", event["event_ts"])
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or _rand_id("Ev", 10),
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(24),
        }
        body = json.dumps(envelope).encode()
        return self._post_to_app(
            "event",
            body,
            "application/json",
            envelope,
            retry_num=retry_num,
            retry_reason=retry_reason if retry_num is not None else None,
            sign=sign,
            secret=secret,
        )

    def open_home(self, user: str) -> AppResponse:
        """The user opens the app's Home tab (app_home_opened event)."""
        with self._lock:
            dm = self.dm(user)
            home = self.home(user)
            ev = {"type": "app_home_opened", "user": user, "channel": dm, "tab": "home"}
            if home is not None:
                ev["view"] = home.to_slack()
        return self.event(ev)

    def user_message(
        self, channel: str, user: str, text: str, thread_ts: str | None = None, *, send_event: bool = True
    ) -> AppResponse | Message:
        """A human posts a message: stored in the channel and (by default) delivered
        as a ``message`` event.  Returns the AppResponse (with ``.message``) or the
        Message when ``send_event`` is False."""
        with self._lock:
            try:
                ch = self._resolve_channel(self._chan_key(channel))
            except _ApiError as e:
                raise ValueError(f"unknown channel {channel!r}") from e
            msg = Message(ts=self._new_ts(), channel=ch.id, text=text, user=user, source="user")
            msg.blocks = [
                {
                    "type": "rich_text",
                    "block_id": _short_id(),
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
                }
            ]
            self._store_message(ch, msg, thread_ts, "user_message")
            channel_type = "im" if ch.is_im else "mpim" if ch.is_mpim else "group" if ch.is_private else "channel"
            ev = {
                **msg.to_slack(),
                "channel": ch.id,
                "event_ts": msg.ts,
                "channel_type": channel_type,
                "client_msg_id": str(uuid.uuid4()),
            }
        if not send_event:
            return msg
        resp = self.event(ev)
        resp.message = msg
        return resp

    def url_verification(self, challenge: str | None = None) -> AppResponse:
        challenge = challenge or secrets.token_urlsafe(32)
        payload = {"token": self.verification_token, "challenge": challenge, "type": "url_verification"}
        resp = self._post_to_app("url_verification", json.dumps(payload).encode(), "application/json", payload)
        if resp.ok:
            ack = self._ack_json(resp)
            got = ack.get("challenge") if isinstance(ack, dict) else ack
            if got != challenge:
                self._violation(
                    "url_verification", "challenge_failed", f"expected {challenge!r}, got {resp.body[:200]!r}"
                )
        return resp

    def send_raw(
        self, body: bytes | str, headers: dict | None = None, *, content_type: str = "application/x-www-form-urlencoded"
    ) -> AppResponse:
        """POST arbitrary bytes with exactly ``headers`` (no automatic signing)."""
        if isinstance(body, str):
            body = body.encode()
        headers = dict(headers or {})
        ctype = headers.pop("Content-Type", None) or headers.pop("content-type", None) or content_type
        return self._post_to_app("raw", body, ctype, None, sign=False, headers=headers, raw=True)

    # ------------------------------------------------------------------ Socket Mode
    @property
    def transport(self) -> str:
        """How the client-side helpers reach the app: ``"http"`` (signed POSTs to
        ``app_url``, the default) or ``"socket"`` (envelopes over the app's Socket Mode
        WebSocket, acked by ``envelope_id``)."""
        return self._transport

    @transport.setter
    def transport(self, value: str) -> None:
        if value not in ("http", "socket"):
            raise ValueError(f"transport must be 'http' or 'socket', not {value!r}")
        self._transport = value

    def _m_apps_connections_open(self, args: dict) -> dict:
        with self._lock:
            ticket = str(uuid.uuid4())
            self._tickets[ticket] = {"issued": self.now(), "used": False}
        app = hashlib.sha256(f"{self.team_id}:{self.app_id}".encode()).hexdigest()
        return {"url": f"ws://{self._host}:{self.port}/link/?ticket={ticket}&app_id={app}"}

    @property
    def socket_connections(self) -> list[str]:
        """Ids of the open Socket Mode connections, oldest first (``len()`` is the count).
        A connection asked to disconnect stays here until it is closed."""
        with self._lock:
            return [c.id for c in self.sockets if c.open]

    def socket(self, conn_id: str) -> SocketConnection:
        with self._lock:
            for c in self.sockets:
                if c.id == conn_id:
                    return c
        raise ValueError(f"no Socket Mode connection {conn_id!r}; connections: {[c.id for c in self.sockets]}")

    def wait_socket_connected(self, timeout: float = 5.0, *, exclude: Iterable[str] = ()) -> str:
        """Wait until the app holds a connection that gets payloads (greeted with
        ``hello``, not asked to disconnect) whose id is not in ``exclude``; return the
        newest such id.  AssertionError (with recent activity) on timeout."""
        excluded = set(exclude)
        deadline = time.monotonic() + timeout
        with self._socket_changed:
            while True:
                ready = [c for c in self.sockets if c.ready and c.id not in excluded]
                if ready:
                    return ready[-1].id
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no Socket Mode connection (excluding {sorted(excluded)}) within {timeout}s;"
                        f" connections: {self.sockets}\n{self.describe()}"
                    )
                self._socket_changed.wait(left)

    def socket_disconnect(
        self, reason: str = "refresh_requested", connection: str | None = None, *, close_after: float | None = 10.0
    ) -> list[str]:
        """Send Slack's ``{"type": "disconnect", "reason": ...}`` to ``connection`` (default:
        every open connection) and return the ids it went to.

        ``warning`` only warns (the connection keeps getting payloads).  Any other reason
        (``refresh_requested``, ``link_disabled``, ...) stops deliveries to the connection
        and, unless the app closes it first, the fake closes it after ``close_after``
        seconds (None: never).  An app that reconnects calls apps.connections.open and
        opens a new connection; :meth:`wait_socket_connected` with ``exclude`` waits for it."""
        with self._socket_changed:
            targets = [c for c in self.sockets if c.open and not c.draining and connection in (None, c.id)]
            if connection is not None and not targets:
                raise ValueError(f"no open Socket Mode connection {connection!r}")
            for c in targets:
                c.disconnects.append(reason)
                if reason != "warning":
                    c.draining, c.disconnect_reason = True, reason
        for c in targets:
            c.send_text(json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": c.host}}))
            if reason != "warning" and close_after is not None:
                self._socket_close_later(c, close_after)
        return [c.id for c in targets]

    def _socket_close_later(self, conn: SocketConnection, delay: float) -> None:
        timer = threading.Timer(delay, conn.close)
        timer.daemon = True
        timer.start()
        self._socket_timers.append(timer)

    def socket_close(self, connection: str | None = None, code: int = 1001, reason: str = "") -> list[str]:
        """Close ``connection`` (default: every open one) from Slack's side with a close
        frame, as when Slack's server goes away; return the ids closed."""
        with self._socket_changed:
            targets = [c for c in self.sockets if c.open and connection in (None, c.id)]
            for c in targets:
                c.draining = True
        for c in targets:
            c.close(code, reason)
        return [c.id for c in targets]

    def socket_ping(self, connection: str | None = None, timeout: float = 2.0) -> bool:
        """Ping the app's connection (default: the newest open one); True when it answers
        with a pong carrying the ping's payload, as RFC 6455 requires."""
        conn = self._socket_target(connection)
        data = secrets.token_hex(8).encode()
        with conn._pong:
            if not conn._send(_WS_PING, data):
                return False
            return conn._pong.wait_for(lambda: data in conn.pongs, timeout)

    def socket_send_raw(self, text: str | bytes, connection: str | None = None) -> bool:
        """Send an arbitrary text frame to the app's connection (default: the newest open one)."""
        conn = self._socket_target(connection)
        return conn._send(_WS_TEXT, text.encode("utf-8") if isinstance(text, str) else text)

    def _socket_target(self, connection: str | None) -> SocketConnection:
        with self._lock:
            open_ = [c for c in self.sockets if c.open and connection in (None, c.id)]
        if not open_:
            raise ValueError(f"no open Socket Mode connection {connection or ''}".strip())
        return open_[-1]

    # -- the WebSocket endpoint
    def _socket_serve(self, h: _Handler, verb: str, query: str) -> None:
        if verb != "GET" or (h.headers.get("Upgrade") or "").lower() != "websocket":
            h.send(426, b"Upgrade Required", "text/plain", {"Upgrade": "websocket", "Connection": "Upgrade"})
            return
        params = {k: v[-1] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        key = h.headers.get("Sec-WebSocket-Key") or ""
        problems = []
        if h.request_version != "HTTP/1.1":
            problems.append(f"{h.request_version} (RFC 6455 needs HTTP/1.1)")
        if "upgrade" not in (h.headers.get("Connection") or "").lower():
            problems.append("no 'Connection: Upgrade'")
        if (h.headers.get("Sec-WebSocket-Version") or "").strip() != "13":
            problems.append(f"Sec-WebSocket-Version {h.headers.get('Sec-WebSocket-Version')!r} (must be 13)")
        try:
            if len(base64.b64decode(key, validate=True)) != 16:
                raise ValueError
        except ValueError:
            problems.append(f"Sec-WebSocket-Key {key!r} is not 16 base64-encoded bytes")
        if problems:
            self._violation("socket_mode", "invalid_handshake", problems)
            h.send(400, b"Bad Request", "text/plain")
            return
        with self._socket_changed:
            ticket = params.get("ticket") or ""
            issued = self._tickets.get(ticket)
            if issued is None or issued["used"]:
                why = "reused" if issued else "unknown"
                self._violation(
                    "socket_mode",
                    "invalid_ticket",
                    f"{why} ticket {ticket!r}: every connection needs a fresh URL from apps.connections.open",
                )
                h.send(401, b"invalid ticket", "text/plain")
                return
            issued["used"] = True
            seq = len(self.sockets) + 1
            conn = SocketConnection(f"WS{seq:04d}", ticket, h.connection, h.rfile, self.now(), f"applink-fake-{seq}")
            self.sockets.append(conn)
            live = sum(1 for c in self.sockets if c.open)
        h.close_connection = True
        h.log_request(101)
        try:
            h.wfile.write(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {_ws_accept(key)}\r\n\r\n".encode()
            )
            if live > SOCKET_MAX_CONNECTIONS:
                self._violation("socket_mode", "too_many_websockets", f"{live} open connections (Slack allows 10)")
                with self._socket_changed:
                    conn.draining, conn.disconnect_reason = True, "too_many_websockets"
                    conn.disconnects.append("too_many_websockets")
                msg = {"type": "disconnect", "reason": "too_many_websockets", "debug_info": {"host": conn.host}}
                conn.send_text(json.dumps(msg))
                self._socket_close_later(conn, 1.0)
            else:
                debug = params.get("debug_reconnects") == "true"
                hello = {
                    "type": "hello",
                    "num_connections": live,
                    "debug_info": {
                        "host": conn.host,
                        "build_number": 1,
                        "approximate_connection_time": SOCKET_DEBUG_CONNECTION_TIME
                        if debug
                        else SOCKET_CONNECTION_TIME,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
                with self._socket_changed:  # usable before the app can read hello and send anything
                    conn.hello = hello
                    self._socket_changed.notify_all()
                if not conn.send_text(json.dumps(hello)):
                    with self._socket_changed:
                        conn.hello = None
                        self._socket_changed.notify_all()
            self._socket_loop(conn)
        finally:
            with self._socket_changed:
                if conn.close_code is None:
                    conn.close_code, conn.closed_by = 1006, "eof"
                conn.closed_at = self.now()
                conn._done.set()
                self._socket_changed.notify_all()

    def _socket_loop(self, conn: SocketConnection) -> None:
        parts: list[bytes] = []
        message_op: int | None = None
        try:
            while True:
                fin, op, data = conn._read_frame()
                if op == _WS_PING:
                    conn.pings_from_app += 1
                    conn._send(_WS_PONG, data)
                elif op == _WS_PONG:
                    with conn._pong:
                        conn.pongs.append(data)
                        conn._pong.notify_all()
                elif op == _WS_CLOSE:
                    if conn.close_code is None:
                        code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                        conn.close_code, conn.close_reason = code, data[2:].decode("utf-8", "replace")
                        conn.closed_by = "app"
                    conn._send(_WS_CLOSE, data[:2])  # the closing handshake's echo (once)
                    return
                else:
                    if op == _WS_CONTINUATION and message_op is None:
                        raise _WsProtocolError(1002, "continuation frame with no message to continue")
                    if op != _WS_CONTINUATION:
                        if message_op is not None:
                            raise _WsProtocolError(1002, "new message before the last one's final frame")
                        message_op = op
                    parts.append(data)
                    if sum(map(len, parts)) > SOCKET_MAX_MESSAGE:
                        raise _WsProtocolError(1009, "message too big")
                    if fin:
                        payload, kind = b"".join(parts), message_op
                        parts, message_op = [], None
                        if kind == _WS_BINARY:
                            self._violation("socket_mode", "invalid_message", "a binary frame; Slack takes JSON text")
                            continue
                        try:
                            text = payload.decode("utf-8")
                        except UnicodeDecodeError:
                            raise _WsProtocolError(1007, "text message is not UTF-8") from None
                        self._socket_message(conn, text)
        except _WsProtocolError as e:
            self._violation("socket_mode", "protocol_error", f"{conn.id}: {e.code} {e.reason}")
            if conn.close_code is None:
                conn.close_code, conn.close_reason, conn.closed_by = e.code, e.reason, "fake"
            conn._send(_WS_CLOSE, _ws_close_payload(e.code, e.reason))
        except (EOFError, OSError):
            return

    def _socket_message(self, conn: SocketConnection, text: str) -> None:
        """A text message from the app: an ack ``{"envelope_id": ..., "payload": ...}``."""
        conn.received.append(text)
        try:
            msg = json.loads(text)
        except ValueError:
            self._violation("socket_mode", "invalid_json", _short(text))
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("envelope_id"), str):
            self._violation(
                "socket_mode", "invalid_message", f"expected an ack {{envelope_id, payload}}: {_short(text)}"
            )
            return
        extra = sorted(set(msg) - {"envelope_id", "payload"})
        if extra:
            self._warning("socket_mode", "unexpected_ack_keys", extra)
        with self._lock:
            env = self._envelopes.get(msg["envelope_id"])
            if env is None:
                self._violation("socket_mode", "invalid_envelope_id", f"ack for an envelope never sent: {_short(text)}")
                return
            if env.ack is not None:
                self._violation(env.kind, "duplicate_ack", f"envelope {env.id} acked twice")
                return
            env.ack, env.acked_at, env.acked_on = msg, time.perf_counter(), conn.id
            abandoned = env.abandoned
        env.done.set()
        if abandoned:
            self._violation(
                env.kind,
                self._timeout_error(env.kind),
                f"ack for {env.id} came {env.acked_at - env.sent:.2f}s after delivery (the fake waited {self.app_timeout}s)",
            )

    @staticmethod
    def _timeout_error(kind: str) -> str:
        return "http_timeout" if kind == "event" else "operation_timeout"

    def _pick_socket(self) -> SocketConnection | None:
        """Slack sends each payload to any one of the app's connections: round robin."""
        ready = [c for c in self.sockets if c.ready]
        if not ready:
            return None
        self._socket_turn += 1
        return ready[self._socket_turn % len(ready)]

    def _socket_post(
        self,
        kind: str,
        payload: Any,
        *,
        sign: bool,
        secret: str | None,
        timestamp: int | str | None,
        retry_num: int | None,
        retry_reason: str | None,
        headers: dict | None,
        raw: bool,
    ) -> AppResponse:
        """Deliver ``payload`` in a Socket Mode envelope and wait for the app's ack."""
        if raw or kind not in _SOCKET_ENVELOPES:
            raise RuntimeError(
                f"{kind}: Slack sends nothing like it in Socket Mode (transport is 'socket');"
                " socket_send_raw() sends raw WebSocket messages"
            )
        if not sign or secret is not None or timestamp is not None or headers:
            raise ValueError(
                "sign/secret/timestamp/headers do not apply to Socket Mode: payloads arrive unsigned"
                " over the app's authenticated WebSocket"
            )
        if self.fanout:
            raise ValueError("fanout is for HTTP replicas; in Socket Mode each replica opens its own connection")
        etype, accepts = _SOCKET_ENVELOPES[kind]
        if retry_num is not None and etype != "events_api":
            raise ValueError("Slack retries only Events API deliveries")
        eid = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": eid,
            "payload": payload,
            "type": etype,
            "accepts_response_payload": accepts,
        }
        if etype == "events_api":
            envelope["retry_attempt"] = retry_num or 0
            envelope["retry_reason"] = (retry_reason or "") if retry_num else ""
        with self._lock:
            conn = self._pick_socket()
            if conn is not None:
                env = _Envelope(eid, kind, etype, conn.id, time.perf_counter())
                self._envelopes[eid] = env
                conn.envelopes.append(eid)
        if conn is None or not conn.send_text(json.dumps(envelope)):
            why = "no open Socket Mode connection" if conn is None else f"connection {conn.id} is closed"
            resp = AppResponse(kind, payload, 0, {}, why, 0.0)
            resp.transport, resp.envelope, resp.envelope_id = "socket", envelope, eid
            with self._lock:
                self.app_requests.append(resp)
            self._violation(kind, "dispatch_failed", f"could not deliver to the app: {why}")
            return resp
        env.done.wait(self.app_timeout)
        with self._lock:
            if env.ack is None:
                env.abandoned = True
            ack, acked_at = env.ack, env.acked_at
        if ack is None:
            status, body, elapsed = 0, "", time.perf_counter() - env.sent
        else:
            status, elapsed = 200, acked_at - env.sent
            data = ack.get("payload")
            body = "" if data is None else data if isinstance(data, str) else json.dumps(data)
        resp = AppResponse(kind, payload, status, {}, body, elapsed)
        resp.transport, resp.envelope, resp.envelope_id, resp.connection = "socket", envelope, eid, conn.id
        with self._lock:
            self.app_requests.append(resp)
        if ack is None:
            resp.timed_out = True
            self._violation(kind, self._timeout_error(kind), f"no ack for envelope {eid} within {self.app_timeout}s")
        elif elapsed > self.ack_deadline:
            resp.timed_out = True
            self._violation(
                kind, self._timeout_error(kind), f"the app acked after {elapsed:.2f}s (> {self.ack_deadline}s)"
            )
        if ack is not None and body and not accepts:
            self._warning(kind, "response_payload_ignored", f"accepts_response_payload is false: {_short(body)}")
        return resp


class _Missing:
    pass


_MISSING = _Missing()


def _server_error_page(status: int) -> bytes:
    """The HTML page Slack's front end answers with when the API is down (no JSON)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta charset="utf-8">\n'
        f"    <title>Server Error | Slack</title>\n"
        '    <meta name="author" content="Slack">\n  </head>\n'
        f"  <body><!-- HTTP {status} --></body>\n</html>\n"
    ).encode()


def _short(value: Any, n: int = 300) -> str:
    s = value if isinstance(value, str) else repr(value)
    return s if len(s) <= n else s[:n] + "..."
