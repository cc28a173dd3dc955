"""Self-tests for the fake Slack's fault injection (tests/fakes/slack.py).

They drive the fake with the real slack_sdk WebClient, as the app does: delays, injected
errors (status, body, headers as Slack sends them), slack_sdk's retry handlers reacting to
them, channel states that make posting fail, and the bookkeeping that keeps injected
answers out of ``fake.errors``.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler

from tests.fakes.slack import FakeSlack, Injected


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        fake.add_user("U123", name="alice", email="alice@mit.edu")
        fake.add_user("U456", name="bob", email="bob@mit.edu")
        fake.add_channel("C123", name="course-ops", members=["U123"])
        fake.add_channel("G777", name="secret", is_private=True, members=["U123"])
        yield fake


@pytest.fixture
def client(slack):
    return WebClient(base_url=slack.api_url, token=slack.bot_token)


@pytest.fixture(autouse=True)
def _quiet_sdk():
    # slack_sdk logs every non-JSON answer at ERROR; the tests below provoke some on purpose.
    logger = logging.getLogger("slack_sdk.web.base_client")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


def _refused(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as exc:
        call()
    return exc.value


def _timed(call) -> tuple[object, float]:
    start = time.monotonic()
    result = call()
    return result, time.monotonic() - start


# ------------------------------------------------------------------ delay
def test_delayed_update_is_slow_while_other_methods_answer_at_once(slack, client):
    ts = client.chat_postMessage(channel="C123", text="step 1")["ts"]
    slack.delay("chat.update", 1.5)
    done = {}

    def update():
        done["resp"], done["elapsed"] = _timed(lambda: client.chat_update(channel="C123", ts=ts, text="step 2"))

    worker = threading.Thread(target=update)
    worker.start()
    slack.wait_for(lambda: slack.count("chat.update") == 1)
    # Meanwhile, other calls are served: the sleeping handler holds no lock.
    client.chat_postMessage(channel="C123", text="meanwhile")
    client.auth_test()
    assert worker.is_alive() and "resp" not in done
    assert slack.message("C123", ts).text == "step 1"  # not applied before the delay is over
    worker.join(10)
    assert done["elapsed"] >= 1.5 and done["resp"]["ok"]
    assert slack.message("C123", ts).text == "step 2"
    call = slack.calls_to("chat.update")[0]
    assert call.delay == 1.5 and call.ok and call.injected is None
    assert [c.delay for c in slack.calls if c.method != "chat.update"] == [0.0, 0.0, 0.0]
    # A delay is not a failure: nothing in errors, nothing in injected.
    assert slack.errors == [] and slack.injected == []


def test_delays_do_not_serialise_and_times_counts_down(slack, client):
    ts = client.chat_postMessage(channel="C123", text="x")["ts"]
    slack.delay("chat.update", 1.0, times=2)
    threads = [
        threading.Thread(target=lambda i=i: client.chat_update(channel="C123", ts=ts, text=f"edit {i}"))
        for i in range(2)
    ]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    both = time.monotonic() - start
    assert 1.0 <= both < 1.9  # slept side by side, not one after the other
    client.chat_update(channel="C123", ts=ts, text="edit 3")
    assert [c.delay for c in slack.calls_to("chat.update")] == [1.0, 1.0, 0.0]


def test_delay_wildcard_and_when(slack, client):
    slack.delay("*", 0.4, when=lambda args: args.get("channel") == "G777")
    client.chat_postMessage(channel="C123", text="x")
    _, slow = _timed(lambda: client.chat_postMessage(channel="G777", text="x"))
    _, slow_too = _timed(lambda: client.chat_postEphemeral(channel="G777", user="U123", text="x"))
    assert slow >= 0.4 and slow_too >= 0.4
    assert [(c.method, c.args["channel"], c.delay) for c in slack.calls] == [
        ("chat.postMessage", "C123", 0.0),
        ("chat.postMessage", "G777", 0.4),
        ("chat.postEphemeral", "G777", 0.4),
    ]


def test_delay_apply_first_changes_state_before_the_late_answer(slack):
    ts = WebClient(base_url=slack.api_url, token=slack.bot_token).chat_postMessage(channel="C123", text="v1")["ts"]
    impatient = WebClient(base_url=slack.api_url, token=slack.bot_token, timeout=0.5)
    slack.delay("chat.update", 1.5, times=1, apply_first=True)
    with pytest.raises(TimeoutError):  # the client's timeout fires before Slack answers
        impatient.chat_update(channel="C123", ts=ts, text="v2")
    # ...yet Slack did it: a retry by the app would edit twice.
    assert slack.message("C123", ts).text == "v2"
    time.sleep(1.3)  # the late answer hits a closed connection: no fake error for that
    assert slack.errors == []


def test_stopping_the_fake_wakes_delayed_calls():
    fake = FakeSlack().start()
    client = WebClient(base_url=fake.api_url, token=fake.bot_token)
    fake.delay("auth.test", 30)
    failed = {}

    def call():
        start = time.monotonic()
        try:
            client.auth_test()
        except Exception as e:
            failed["error"] = e
        failed["elapsed"] = time.monotonic() - start

    worker = threading.Thread(target=call)
    worker.start()
    fake.wait_for(lambda: fake.count("auth.test") == 1)
    fake.stop()
    worker.join(10)
    assert "error" in failed and failed["elapsed"] < 10
    assert fake.errors == []


# ------------------------------------------------------------------ fail: rate limits
def test_fail_ratelimited_is_a_429_with_retry_after_and_changes_nothing(slack, client):
    ts = client.chat_postMessage(channel="C123", text="v1")["ts"]
    slack.fail("chat.update", "ratelimited")
    err = _refused(lambda: client.chat_update(channel="C123", ts=ts, text="v2"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "1"
    assert err.response.data == {"ok": False, "error": "ratelimited"}
    assert slack.message("C123", ts).text == "v1" and slack.message("C123", ts).edits == []
    # Recorded as injected, not as a violation; the next call is served normally.
    assert slack.errors == []
    [rec] = slack.injected
    assert isinstance(rec, Injected)
    method, error, when = rec
    assert (method, error, rec.status, rec.source) == ("chat.update", "ratelimited", 429, "fail")
    assert abs(when - slack.now()) < 5 and rec.args["ts"] == ts
    assert slack.calls_to("chat.update")[0].injected is rec
    client.chat_update(channel="C123", ts=ts, text="v2")
    assert slack.message("C123", ts).text == "v2" and len(slack.injected) == 1


def test_rate_limit_error_retry_handler_retries_after_retry_after(slack):
    client = WebClient(
        base_url=slack.api_url,
        token=slack.bot_token,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    ts = client.chat_postMessage(channel="C123", text="v1")["ts"]
    slack.fail("chat.update", "ratelimited")
    resp, elapsed = _timed(lambda: client.chat_update(channel="C123", ts=ts, text="v2"))
    assert resp["ok"] and slack.message("C123", ts).text == "v2"
    assert elapsed >= 1.0  # slack_sdk slept Retry-After (+ jitter) before retrying
    first, second = slack.call_times("chat.update")
    assert second - first >= 1.0
    assert [c.status for c in slack.calls_to("chat.update")] == [429, 200]
    assert slack.errors == [] and [i.error for i in slack.injected] == ["ratelimited"]


def test_retry_after_from_headers(slack, client):
    slack.fail("chat.postMessage", "ratelimited", headers={"retry-after": 30})
    err = _refused(lambda: client.chat_postMessage(channel="C123", text="x"))
    assert err.response.status_code == 429
    # headers= replaces the default Retry-After whatever its case (slack_sdk then mirrors it
    # under both spellings for a 429).
    assert err.response.headers["Retry-After"] == err.response.headers["retry-after"] == "30"


def test_sustained_rate_limit_until_cleared(slack, client):
    slack.rate_limit("chat.postMessage", retry_after=7)
    for _ in range(3):
        err = _refused(lambda: client.chat_postMessage(channel="C123", text="x"))
        assert err.response.status_code == 429 and err.response.headers["Retry-After"] == "7"
        assert err.response["error"] == "ratelimited"
    assert client.auth_test()["ok"]  # other methods are not limited
    assert slack.messages("C123") == []
    assert [(i.method, i.status, i.source) for i in slack.injected] == [("chat.postMessage", 429, "rate_limit")] * 3
    slack.clear_faults()
    client.chat_postMessage(channel="C123", text="now")
    assert [m.text for m in slack.messages("C123")] == ["now"]
    assert slack.errors == [] and len(slack.injected) == 3  # history is kept


def test_rate_limit_for_a_number_of_calls(slack, client):
    slack.rate_limit("chat.update", times=2)
    ts = client.chat_postMessage(channel="C123", text="v1")["ts"]
    statuses = []
    for i in range(3):
        try:
            client.chat_update(channel="C123", ts=ts, text=f"v{i + 2}")
            statuses.append(200)
        except SlackApiError as e:
            statuses.append(e.response.status_code)
    assert statuses == [429, 429, 200] and slack.message("C123", ts).text == "v4"


# ------------------------------------------------------------------ fail: other errors
@pytest.mark.parametrize("error", ["fatal_error", "internal_error", "service_unavailable", "channel_not_found"])
def test_other_errors_are_http_200_with_ok_false(slack, client, error):
    slack.fail("chat.postMessage", error)
    err = _refused(lambda: client.chat_postMessage(channel="C123", text="x"))
    assert err.response.status_code == 200
    assert err.response.data == {"ok": False, "error": error}
    assert "Retry-After" not in err.response.headers
    assert slack.messages("C123") == []  # nothing changed
    assert slack.errors == [] and [(i.error, i.status) for i in slack.injected] == [(error, 200)]


def test_status_override_and_server_error_retry_handler(slack):
    client = WebClient(
        base_url=slack.api_url, token=slack.bot_token, retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)]
    )
    slack.fail("chat.postMessage", "service_unavailable", status=503)
    err = _refused(
        lambda: WebClient(base_url=slack.api_url, token=slack.bot_token).chat_postMessage(channel="C123", text="x")
    )
    assert err.response.status_code == 503 and err.response["error"] == "service_unavailable"
    slack.fail("chat.postMessage", "service_unavailable", status=503)
    assert client.chat_postMessage(channel="C123", text="retried")["ok"]
    assert [m.text for m in slack.messages("C123")] == ["retried"]
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [503, 503, 200]


def test_server_error_is_a_5xx_html_page(slack, client):
    slack.server_error("chat.postMessage", 503)
    err = _refused(lambda: client.chat_postMessage(channel="C123", text="x"))
    assert err.response.status_code == 503
    assert "non-JSON" in err.response["error"]
    assert slack.messages("C123") == [] and slack.errors == []
    [rec] = slack.injected
    assert (rec.method, rec.error, rec.status, rec.source) == ("chat.postMessage", None, 503, "server_error")
    call = slack.calls_to("chat.postMessage")[0]
    assert call.response is None and call.error is None and not call.ok
    # slack_sdk's ServerErrorRetryHandler retries 5xx answers.
    slack.server_error("chat.postMessage")
    retrying = WebClient(
        base_url=slack.api_url, token=slack.bot_token, retry_handlers=[ServerErrorRetryHandler(max_retry_count=1)]
    )
    assert retrying.chat_postMessage(channel="C123", text="after outage")["ok"]
    assert [m.text for m in slack.messages("C123")] == ["after outage"]


def test_when_filters_and_counts_only_matching_calls(slack, client):
    slack.fail("chat.postMessage", "channel_not_found", times=1, when=lambda args: args["channel"] == "G777")
    client.chat_postMessage(channel="C123", text="unaffected")
    client.chat_postMessage(channel="C123", text="still unaffected")
    err = _refused(lambda: client.chat_postMessage(channel="G777", text="x"))
    assert err.response["error"] == "channel_not_found"
    client.chat_postMessage(channel="G777", text="used up")
    assert [m.text for m in slack.messages("G777")] == ["used up"]
    assert [i.args["channel"] for i in slack.injected] == ["G777"]


def test_when_sees_json_and_form_arguments(slack, client):
    seen = []
    slack.fail("chat.update", "cant_update_message", times=None, when=lambda a: seen.append(a) or "blocks" in a)
    ts = client.chat_postMessage(channel="C123", text="v1")["ts"]
    client.chat_update(channel="C123", ts=ts, text="plain")  # no blocks: served
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "b"}}]
    err = _refused(lambda: client.chat_update(channel="C123", ts=ts, text="b", blocks=blocks))
    assert err.response["error"] == "cant_update_message"
    assert seen[0]["text"] == "plain" and seen[1]["ts"] == ts
    assert slack.message("C123", ts).text == "plain"


def test_wildcard_first_match_wins_and_clear_faults(slack, client):
    slack.fail("*", "fatal_error", times=None, when=lambda a: a.get("channel") == "G777")
    slack.fail("chat.postMessage", "restricted_action")
    assert _refused(lambda: client.chat_postMessage(channel="G777", text="x")).response["error"] == "fatal_error"
    assert _refused(lambda: client.chat_postMessage(channel="C123", text="x")).response["error"] == (
        "restricted_action"
    )
    assert _refused(lambda: client.chat_postEphemeral(channel="G777", user="U123", text="x")).response["error"] == (
        "fatal_error"
    )
    slack.delay("auth.test", 5)
    slack.clear_faults()
    client.auth_test()
    assert slack.calls_to("auth.test")[-1].delay == 0.0
    client.chat_postMessage(channel="G777", text="fine now")
    assert [m.text for m in slack.messages("G777")] == ["fine now"]
    assert [i.error for i in slack.injected] == ["fatal_error", "restricted_action", "fatal_error"]
    assert slack.errors == []


def test_injected_failures_come_before_authentication(slack):
    slack.fail("auth.test", "service_unavailable")
    err = _refused(lambda: WebClient(base_url=slack.api_url, token="xoxb-wrong").auth_test())
    assert err.response["error"] == "service_unavailable" and slack.errors == []
    err = _refused(lambda: WebClient(base_url=slack.api_url, token="xoxb-wrong").auth_test())
    assert err.response["error"] == "invalid_auth" and [e.error for e in slack.errors] == ["invalid_auth"]


def test_bad_fault_arguments_are_refused(slack):
    with pytest.raises(ValueError):
        slack.fail("chat.update", "")
    with pytest.raises(ValueError):
        slack.fail("chat.update", "ratelimited", times=0)
    with pytest.raises(ValueError):
        slack.delay("chat.update", -1)
    with pytest.raises(ValueError):
        slack.server_error("chat.update", 404)


# ------------------------------------------------------------------ channel states
def test_archived_channel(slack, client):
    ts = client.chat_postMessage(channel="C123", text="before")["ts"]
    slack.archive_channel("C123")
    refusals = [
        (lambda: client.chat_postMessage(channel="C123", text="x"), "is_archived"),
        (lambda: client.chat_postMessage(channel="#course-ops", text="x"), "is_archived"),
        (lambda: client.chat_postEphemeral(channel="C123", user="U123", text="x"), "is_archived"),
        (lambda: client.chat_update(channel="C123", ts=ts, text="x"), "is_inactive"),
    ]
    for call, error in refusals:
        err = _refused(call)
        assert err.response.status_code == 200 and err.response.data == {"ok": False, "error": error}
    assert [m.text for m in slack.messages("C123")] == ["before"] and slack.ephemerals() == []
    assert slack.errors == []
    assert [(i.error, i.source) for i in slack.injected] == [(e, "archive_channel") for _c, e in refusals]
    slack.unarchive_channel("C123")
    client.chat_update(channel="C123", ts=ts, text="after")
    assert slack.message("C123", ts).text == "after"


def test_a_channel_added_archived_is_still_a_violation(slack, client):
    slack.add_channel("C888", name="old", is_archived=True)
    assert _refused(lambda: client.chat_postMessage(channel="C888", text="x")).response["error"] == "is_archived"
    assert [e.error for e in slack.errors] == ["is_archived"] and slack.injected == []


def test_deleted_channel(slack, client):
    ts = client.chat_postMessage(channel="C123", text="before")["ts"]
    slack.delete_channel("C123")
    refusals = [
        lambda: client.chat_postMessage(channel="C123", text="x"),
        lambda: client.chat_postMessage(channel="course-ops", text="x"),
        lambda: client.chat_postEphemeral(channel="C123", user="U123", text="x"),
        lambda: client.chat_update(channel="C123", ts=ts, text="x"),
    ]
    for call in refusals:
        err = _refused(call)
        assert err.response.status_code == 200 and err.response.data == {"ok": False, "error": "channel_not_found"}
    assert slack.errors == []
    assert [(i.error, i.source) for i in slack.injected] == [("channel_not_found", "delete_channel")] * 4
    assert [m.text for m in slack.messages("C123")] == ["before"]  # kept for inspection
    # An unknown channel is still the app's mistake.
    assert _refused(lambda: client.chat_postMessage(channel="CNOPE", text="x")).response["error"] == (
        "channel_not_found"
    )
    assert [e.error for e in slack.errors] == ["channel_not_found"]


def test_bot_removed_from_a_public_channel(slack, client):
    ts = client.chat_postMessage(channel="C123", text="before")["ts"]
    slack.set_bot_member("C123", False, injected=True)
    # With chat:write.public (the fake's default scopes) a public channel still takes posts.
    client.chat_postMessage(channel="C123", text="public ok")
    slack.scopes.discard("chat:write.public")
    for call in (
        lambda: client.chat_postMessage(channel="C123", text="x"),
        lambda: client.chat_postEphemeral(channel="C123", user="U123", text="x"),
    ):
        err = _refused(call)
        assert err.response.status_code == 200 and err.response["error"] == "not_in_channel"
    # Its own message it may still edit (chat.update documents no not_in_channel).
    client.chat_update(channel="C123", ts=ts, text="edited")
    assert slack.message("C123", ts).text == "edited"
    assert slack.errors == []
    assert [(i.error, i.source) for i in slack.injected] == [("not_in_channel", "set_bot_member")] * 2


def test_bot_removed_from_a_private_channel(slack, client):
    ts = client.chat_postMessage(channel="G777", text="before")["ts"]
    slack.set_bot_member("G777", False, injected=True)
    for call in (
        lambda: client.chat_postMessage(channel="G777", text="x"),
        lambda: client.chat_postEphemeral(channel="G777", user="U123", text="x"),
        lambda: client.chat_update(channel="G777", ts=ts, text="x"),
    ):
        err = _refused(call)
        assert err.response.status_code == 200 and err.response["error"] == "channel_not_found"
    assert slack.errors == [] and len(slack.injected) == 3
    slack.set_bot_member("G777", True)
    client.chat_update(channel="G777", ts=ts, text="back")
    assert slack.message("G777", ts).text == "back"


def test_bot_not_member_without_injected_is_a_violation(slack, client):
    slack.set_bot_member("G777", False)
    slack.scopes.discard("chat:write.public")
    slack.set_bot_member("C123", False)
    assert _refused(lambda: client.chat_postMessage(channel="G777", text="x")).response["error"] == (
        "channel_not_found"
    )
    assert _refused(lambda: client.chat_postMessage(channel="C123", text="x")).response["error"] == "not_in_channel"
    assert [e.error for e in slack.errors] == ["channel_not_found", "not_in_channel"] and slack.injected == []


# ------------------------------------------------------------------ inspection
def test_call_times_measure_how_often_the_app_edits(slack, client):
    ts = client.chat_postMessage(channel="C123", text="0")["ts"]
    for i in range(3):
        time.sleep(0.2)
        client.chat_update(channel="C123", ts=ts, text=str(i + 1))
    times = slack.call_times("chat.update")
    assert len(times) == 3 and times == sorted(times)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(g >= 0.18 for g in gaps)
    assert slack.call_times("chat.delete") == []
    # Injected failures are calls too, and advance() moves the clock they are read on.
    slack.fail("chat.update", "ratelimited")
    slack.advance(60)
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C123", ts=ts, text="late")
    assert slack.call_times("chat.update")[-1] - times[-1] >= 60


def test_describe_lists_injected_failures(slack, client):
    slack.fail("chat.postMessage", "fatal_error")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C123", text="x")
    assert "injected failures (1):" in slack.describe()
    assert "chat.postMessage: fatal_error HTTP 200 (fail)" in slack.describe()
    slack.assert_no_errors()
