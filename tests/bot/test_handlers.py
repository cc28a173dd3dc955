"""The Slack handlers one by one, with stub `ack` / `respond` / `client` (the Bolt
starter template's way): each acks before anything else, and answers what it was asked."""

from __future__ import annotations

import threading

import pytest

from bot.blocks import modal_view
from bot.context import Bot
from bot.listeners import actions, commands, views
from bot.metadata import MetadataSigner
from bot.middleware import form_values
from bot.notify import SlackNotifier
from bot.users import Directory, SlackUser
from commands import Services
from commands.new import modal as new_modal
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.store import open_store
from orcoursetrion.workflow import Workflow
from tests.conftest import settings_for

USER = SlackUser("UALICE", "Alice", "America/New_York")


class Timeline:
    """Every call the handler makes, in order, so a test can say what came first."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.done = threading.Event()

    def ack(self, *args, **kwargs) -> None:
        self.calls.append(("ack", kwargs))

    def respond(self, **kwargs) -> None:
        self.calls.append(("respond", kwargs))
        self.done.set()

    respond.response_url = "https://hooks.slack.test/commands/1"

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class StubClient:
    """Answers like Slack's Web API for the few methods the handlers call."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline

    def __getattr__(self, method: str):
        def call(**kwargs):
            self.timeline.calls.append((method, kwargs))
            if method == "users_info":
                return {"user": {"id": kwargs["user"], "real_name": "Alice", "tz": "America/New_York"}}
            if method == "chat_postMessage":
                return {"channel": kwargs["channel"], "ts": "1.000100"}
            return {"ok": True}

        return call


@pytest.fixture
def world(github, sqlite_url):
    settings = settings_for(github, sqlite_url, SLACK_BOT_TOKEN="xoxb-t", SLACK_SIGNING_SECRET="s")
    store = open_store(settings.database_url)
    workflow = Workflow(settings, store)
    timeline = Timeline()
    client = StubClient(timeline)
    services = Services(settings, store, workflow)
    bot = Bot(services, client, Directory(client), SlackNotifier(services, client), MetadataSigner("s"))
    yield bot, timeline
    bot.shutdown()
    bot.notifier.stop(0)
    workflow.shutdown()
    store.close()


def test_the_command_acks_empty_first_and_answers_by_respond(world):
    bot, timeline = world
    commands.orc(timeline.ack, {"text": "help", "trigger_id": "t1"}, bot, USER, "COPS", timeline.respond, bot.client)
    assert timeline.done.wait(5)
    assert timeline.names()[0] == "ack" and timeline.calls[0][1] == {}
    answer = next(kw for name, kw in timeline.calls if name == "respond")
    assert "/orc rerun" in answer["text"] and "replace_original" not in answer


def test_a_command_error_is_told_by_respond_after_the_ack(world):
    bot, timeline = world
    commands.orc(timeline.ack, {"text": "status 999"}, bot, USER, "COPS", timeline.respond, bot.client)
    assert timeline.done.wait(5)
    assert timeline.names()[0] == "ack"
    assert "There is no request #999." in next(kw for n, kw in timeline.calls if n == "respond")["text"]


def test_a_button_acks_before_the_lifecycle_moves(world):
    bot, timeline = world
    req = bot.workflow.create(RequestType.RELEASE, "UALICE", {"course": "8.01r", "term": "Fall_2030", "kind": "xml"})
    actions.cancel(timeline.ack, bot, USER, req, {"channel": {"id": "COPS"}}, timeline.respond)
    assert timeline.names()[0] == "ack"
    bot.workflow.wait_idle(5)
    deadline = threading.Event()
    for _ in range(50):
        if bot.store.get(req.id).state == Status.CANCELLED:
            break
        deadline.wait(0.1)
    assert bot.store.get(req.id).state == Status.CANCELLED


def test_a_refused_click_is_told_privately_after_the_ack(world):
    bot, timeline = world
    req = bot.workflow.create(RequestType.RELEASE, "UBOB", {"course": "8.01r", "term": "Fall_2030", "kind": "xml"})
    actions.confirm(timeline.ack, bot, USER, req, {"channel": {"id": "COPS"}}, timeline.respond)
    assert timeline.done.wait(5)
    assert timeline.names()[0] == "ack"
    told = next(kw for n, kw in timeline.calls if n == "respond")
    assert "Only the requester or an approver can confirm" in told["text"] and told["response_type"] == "ephemeral"
    assert bot.store.get(req.id).state == Status.DRAFT


def test_an_unknown_action_is_acked_and_nothing_else(world):
    bot, timeline = world
    actions.unknown(timeline.ack, {"actions": [{"action_id": "orc.frobnicate:1"}]})
    assert timeline.names() == ["ack"]


def test_a_short_reject_reason_is_an_inline_error(world):
    bot, timeline = world
    views.reject_reason(timeline.ack, bot, USER, {"reason": "no"}, {"request": 1})
    assert timeline.calls == [
        ("ack", {"response_action": "errors", "errors": {"reason": "Say why, so the requester can fix it."}})
    ]


def test_a_form_with_a_bad_course_id_is_an_inline_error_before_anything_else(world):
    bot, timeline = world
    form = {"kind": "xml", "course": "8.01r/../x", "term": "Fall_2030"}
    views.verb_form(
        timeline.ack, bot, USER, form, {"verb": "new", "channel": "COPS"}, {"view": {"id": "V1"}}, bot.client
    )
    assert timeline.names() == ["ack"]
    assert timeline.calls[0][1]["response_action"] == "errors" and set(timeline.calls[0][1]["errors"]) == {"course"}


def test_form_values_reads_each_element_and_names_wrong_types():
    state = {
        "values": {
            "course": {"course": {"type": "plain_text_input", "value": "8.01r"}},
            "kind": {"kind": {"type": "radio_buttons", "selected_option": {"value": "xml"}}},
            "desired": {"desired": {"type": "datepicker", "selected_date": "2031-01-02"}},
            "term": {"term": {"type": "plain_text_input", "value": 2030}},
            "members": {"members": {"type": "plain_text_input", "value": ["alice"]}},
            "title": {"title": {"type": "radio_buttons", "selected_option": "x"}},
        }
    }
    values, problems = form_values(state)
    assert values == {"course": "8.01r", "kind": "xml", "desired": "2031-01-02"}
    assert set(problems) == {"term", "members", "title"}
    assert form_values("not a state") == ({}, {})


def test_modal_metadata_is_signed_and_a_tampered_one_refused():
    signer = MetadataSigner("secret")
    meta = signer.sign({"verb": "new", "channel": "COPS"})
    assert signer.verify(meta) == {"verb": "new", "channel": "COPS"}
    body, mac = meta.split(".")
    import base64

    forged = base64.urlsafe_b64encode(b'{"channel":"CEVIL","verb":"new"}').decode() + "." + mac
    assert signer.verify(forged) is None
    assert signer.verify('{"verb": "new"}') is None and signer.verify(None) is None and signer.verify(12) is None
    assert MetadataSigner("other").verify(meta) is None
    view = modal_view(new_modal(channel="COPS"), meta)
    assert view["private_metadata"] == meta
