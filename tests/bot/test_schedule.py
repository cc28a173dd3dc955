"""Scheduling from Slack, on a clock the test moves: `/orc schedule release …` is read on
the requester's clock and planned like a release; approval happens when it is scheduled;
it runs at its time and is announced; cancel, list, App Home; the daily reminder with
working buttons; a run that comes late says so in its thread."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.runtime import Runtime, build
from orcoursetrion.lifecycle import RequestType, Status
from tests.bot.conftest import (
    ALICE,
    APPROVALS,
    APPROVER1,
    APPROVER2,
    BOB,
    CHANNEL,
    COURSE,
    OLD_REPO,
    TERM,
    ask,
    bot_messages,
    buttons,
    plan_message,
    text_of,
    wait_status,
)
from tests.clock import FakeClock
from tests.conftest import PRODUCTION, settings_for

YEAR = datetime.now(UTC).year + 2
DUE = datetime(YEAR, 7, 10, 13, 0, tzinfo=UTC)  # 09:00 in New York (EDT), the fake Slack users' zone
WAIT = 30.0  # seconds: generous, as the suite shares the machine with others
RELEASE = f"schedule release {COURSE} {TERM} {YEAR}-07-10 09:00"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(DUE - timedelta(hours=1))


@pytest.fixture
def start(github, slack, sqlite_url, clock) -> Iterator:
    """Start the service with the scheduler on the test's clock (ORC_TIMEZONE stays UTC,
    so only the requester's Slack zone can make 09:00 mean 13:00 UTC)."""
    started: list[Runtime] = []

    def make(**extra: str) -> Runtime:
        extra.setdefault("ORC_REMIND_AT", "05:00")
        settings = settings_for(
            github,
            sqlite_url,
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_SIGNING_SECRET="sig-secret",
            SLACK_API_URL=slack.api_url,
            **extra,
        )
        runtime = build(settings, clock=clock)
        runtime.start(port=0, host="127.0.0.1")
        started.append(runtime)
        slack.app_url = f"http://127.0.0.1:{runtime.port}/slack/events"
        return runtime

    yield make
    for runtime in started:
        if runtime.server is not None:
            runtime.workflow.wait_idle(timeout=10)
            runtime.stop()


def waited(slack, predicate):
    return slack.wait_for(predicate, timeout=WAIT)


def stop(runtime: Runtime) -> None:
    runtime.workflow.wait_idle(timeout=10)
    runtime.stop()
    runtime.server = None


def announcements(slack, plan_ts: str) -> list:
    """The results announced in the channel (not the request's own message, which says Completed)."""
    return [m for m in bot_messages(slack, CHANNEL) if m.ts != plan_ts and m.text.startswith(":tada:")]


def test_a_scheduled_release_is_approved_now_runs_at_its_time_and_is_announced(github, slack, start, clock):
    bot = start(ORC_APPROVERS=APPROVER1, ORC_APPROVAL_CHANNEL=APPROVALS)
    ack = slack.command("/orc", RELEASE, user=ALICE, channel=CHANNEL)
    assert ack.status == 200 and ack.elapsed < 3.0

    rid, plan = plan_message(slack, bot)
    shown = text_of(plan)
    assert f"{YEAR}-07-10 09:00 EDT (America/New_York)" in shown
    assert f"<!date^{int(DUE.timestamp())}^{{date_short_pretty}} {{time}}|{YEAR}-07-10 09:00 EDT>" in shown
    assert "Create branch live" in shown and bot.store.get(rid).scheduled_for == DUE

    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "pending_approval", timeout=WAIT)
    approval = waited(slack, lambda: bot_messages(slack, APPROVALS) or None)[0]
    assert "Runs 2" in text_of(approval)
    slack.click(APPROVALS, approval.ts, buttons(approval)["Approve"], APPROVER1)
    wait_status(slack, bot, rid, "scheduled", timeout=WAIT)  # approved at scheduling time, not at the due time
    waited(slack, lambda: "*Scheduled* (approved by" in text_of(slack.message(CHANNEL, plan.ts)))
    assert buttons(slack.message(CHANNEL, plan.ts)) == {"Cancel": f"orc.cancel:{rid}"}
    assert "live" not in github.branches("mitx", OLD_REPO)

    listed = text_of(ask(slack, "schedule list", timeout=WAIT)[1])
    assert f"*#{rid}*" in listed and "09:00 EDT" in listed
    slack.open_home(ALICE)
    waited(slack, lambda: "*Scheduled*" in text_of(slack.home(ALICE)) and f"#{rid}" in text_of(slack.home(ALICE)))

    clock.set(DUE + timedelta(seconds=1))
    bot.scheduler.tick()
    wait_status(slack, bot, rid, "completed", timeout=WAIT)
    assert "live" in github.branches("mitx", OLD_REPO)
    assert [h["config"]["url"] for h in github.repo("mitx", OLD_REPO).hooks] == [PRODUCTION]
    waited(slack, lambda: announcements(slack, plan.ts))
    bot.scheduler.tick()
    bot.workflow.wait_idle(10)
    assert len(announcements(slack, plan.ts)) == 1 and f"request #{rid}" in announcements(slack, plan.ts)[0].text
    assert "Nothing is scheduled" in text_of(ask(slack, "schedule list", timeout=WAIT)[1])


@pytest.mark.parametrize(
    ("when", "problem"),
    [
        ("2020-07-10 09:00", "is in the past"),
        (f"{YEAR}-07-10 9h", "YYYY-MM-DD HH:MM"),
        ("", "Give the course, its term and when"),
    ],
)
def test_times_that_cannot_be_scheduled_are_answered_at_once(github, slack, start, when, problem):
    bot = start()
    _, answer = ask(slack, f"schedule release {COURSE} {TERM} {when}".strip(), timeout=WAIT)
    assert problem in text_of(answer)
    assert bot.store.list_requests() == [] and github.count() == 0


def test_only_the_requester_or_an_approver_cancels_and_a_cancelled_task_never_runs(github, slack, start, clock):
    bot = start(ORC_APPROVERS=APPROVER1)
    slack.command("/orc", RELEASE, user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "pending_approval", timeout=WAIT)
    ask(slack, f"approve {rid}", user=APPROVER1, timeout=WAIT)
    _, again = ask(slack, f"approve {rid}", user=APPROVER1, timeout=WAIT)  # schedules it once
    assert "already Scheduled" in text_of(again)
    wait_status(slack, bot, rid, "scheduled", timeout=WAIT)
    assert len(bot.store.tasks(request_id=rid)) == 1

    _, refused = ask(slack, f"schedule cancel {rid}", user=BOB, timeout=WAIT)
    assert "Only the requester or an approver can cancel" in text_of(refused)
    _, done = ask(slack, f"schedule cancel {rid}", timeout=WAIT)
    assert f"Cancelled request #{rid}" in text_of(done)
    waited(slack, lambda: "Cancelled" in text_of(slack.message(CHANNEL, plan.ts)))

    clock.set(DUE + timedelta(minutes=5))
    assert bot.scheduler.tick() == []
    bot.workflow.wait_idle(10)
    assert bot.store.get(rid).state == Status.CANCELLED
    assert [r for r in github.requests if r.method != "GET"] == []


def test_a_release_due_while_the_service_was_down_runs_at_start_and_says_how_late(github, slack, start, clock):
    first = start()
    slack.command("/orc", RELEASE, user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, first)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, first, rid, "scheduled", timeout=WAIT)
    stop(first)

    clock.set(DUE + timedelta(hours=2, minutes=30))
    second = start()  # its first tick is at start
    wait_status(slack, second, rid, "completed", timeout=WAIT)
    note = waited(slack, lambda: [m for m in slack.thread(CHANNEL, plan.ts) if "late" in m.text] or None)
    assert note[0].text.startswith(":clock3: Ran 2 h 30 min late: it was due") and "09:00 EDT" in note[0].text
    assert len(waited(slack, lambda: announcements(slack, plan.ts))) == 1


def test_the_daily_reminder_lists_what_waits_once_with_buttons_that_work(github, slack, start, clock):
    remind = datetime(YEAR, 7, 10, 13, 0, tzinfo=UTC)  # 09:00 in New York
    clock.set(remind - timedelta(minutes=1))
    bot = start(
        ORC_APPROVERS=f"{APPROVER1},{APPROVER2}",
        ORC_APPROVAL_CHANNEL=APPROVALS,
        ORC_TIMEZONE="America/New_York",
        ORC_REMIND_AT="09:00",
    )
    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    pending, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, pending, "pending_approval", timeout=WAIT)
    wf = bot.workflow
    failed = wf.create(RequestType.RELEASE, BOB, {"course": "9.99", "term": TERM, "kind": "studio"}, channel=CHANNEL)
    wf.approve_direct(failed.id, BOB, "test")
    assert wf.run_now(failed.id).state == Status.FAILED
    waited(slack, lambda: bot.scheduler.store.tasks(kind="reminder"))  # the first tick made the day's row
    before = len(waited(slack, lambda: bot_messages(slack, APPROVALS)))  # the approval request itself

    clock.set(remind + timedelta(seconds=2))
    bot.scheduler.tick()
    bot.scheduler.tick()
    reminders = waited(slack, lambda: bot_messages(slack, APPROVALS)[before:] or None)
    assert len(reminders) == 1
    shown = text_of(reminders[0])
    assert "1 request waiting for approval for more than 24 h" in shown and f"*#{pending}*" in shown
    assert buttons(reminders[0]) == {"Approve": f"orc.approve:{pending}", "Reject": f"orc.reject:{pending}"}
    (dm,) = waited(slack, lambda: bot_messages(slack, BOB) or None)
    assert f"*#{failed.id}*" in text_of(dm) and buttons(dm)["Retry"] == f"orc.retry:{failed.id}"
    assert bot_messages(slack, ALICE) == []

    slack.click(APPROVALS, reminders[0].ts, buttons(reminders[0])["Approve"], APPROVER2)
    wait_status(slack, bot, pending, "completed", timeout=WAIT)
    assert github.repo("mitx", "content-mit-801r-Spring_2031") is not None
    assert len(bot_messages(slack, APPROVALS)) == before + 1


def test_without_an_approval_channel_each_approver_gets_the_reminder_by_dm(github, slack, start, clock):
    remind = datetime(YEAR, 7, 10, 9, 0, tzinfo=UTC)
    clock.set(remind - timedelta(minutes=1))
    bot = start(ORC_APPROVERS=f"{APPROVER1},{APPROVER2}", ORC_REMIND_AT="09:00")
    slack.command("/orc", f"release {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "pending_approval", timeout=WAIT)
    waited(slack, lambda: bot.store.tasks(kind="reminder"))
    before = {a: len(bot_messages(slack, a)) for a in (APPROVER1, APPROVER2)}

    clock.set(remind + timedelta(seconds=1))
    bot.scheduler.tick()
    for approver in (APPROVER1, APPROVER2):
        dms = waited(slack, lambda a=approver: bot_messages(slack, a)[before[a] :] or None)
        assert len(dms) == 1 and buttons(dms[0])["Approve"] == f"orc.approve:{rid}"


def test_changing_a_scheduled_reruns_term_keeps_its_time(github, slack, start):
    bot = start()
    slack.command("/orc", f"schedule rerun {COURSE} {TERM} {YEAR}-07-10 09:00", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Change term/team"], ALICE)
    form = waited(slack, lambda: slack.top_view(ALICE))
    assert slack.submit_view(form.id, ALICE, {"new_term": "Summer_2031"}).ok

    new = waited(slack, lambda: (r := bot.store.get(rid)).params["new_term"] == "Summer_2031" and r)
    assert new.params["schedule"]["at"] == DUE.isoformat() and new.scheduled_for == DUE  # replanned, same time
    waited(slack, lambda: "Summer_2031" in text_of(slack.message(CHANNEL, plan.ts)))
    slack.click(CHANNEL, plan.ts, buttons(slack.message(CHANNEL, plan.ts))["Confirm"], ALICE)
    wait_status(slack, bot, rid, "scheduled", timeout=WAIT)
    assert github.repo("mitx", "content-mit-801r-Summer_2031") is None
