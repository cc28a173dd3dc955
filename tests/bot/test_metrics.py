"""`GET /metrics`: Prometheus text that prometheus_client's own parser reads, with the
counts of what really happened — a rerun through Slack against the fake GitHub."""

from __future__ import annotations

from datetime import timedelta

import requests
from prometheus_client.parser import text_string_to_metric_families

from orcoursetrion.store import open_store
from orcoursetrion.store.models import utcnow
from orcoursetrion.store.outbox import Outbox
from orcoursetrion.workflow import Workflow
from tests.bot.conftest import ALICE, CHANNEL, COURSE, NEW_REPO, TERM, buttons, plan_message, wait_status
from tests.conftest import STAGING, settings_for


def scrape(runtime) -> dict:
    """name -> {(sample name, labels as a sorted tuple): value}."""
    resp = requests.get(f"http://127.0.0.1:{runtime.port}/metrics", timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
    return families(resp.text)


def families(text: str) -> dict:
    out: dict = {}
    for family in text_string_to_metric_families(text):
        out[family.name] = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}
    return out


def total(samples: dict, sample: str, **labels: str) -> float:
    """Sum of the samples named `sample` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (name, lab), v in samples.items() if name == sample and want <= set(lab))


def test_metrics_count_a_rerun_through_slack(github, slack, bot):
    """Given a rerun confirmed in Slack (users.info failing once on the way), /metrics
    shows one completed rerun, the time of each step it applied, every GitHub request
    the fake saw, the write budget's waits, and the one Slack error."""
    github.add_hook("mitx", "content-mit-801r-Fall_2030", STAGING)
    slack.fail("users.info", "user_not_found", times=1)
    before = scrape(bot)
    assert total(before.get("orc_requests", {}), "orc_requests_total") == 0

    slack.command("/orc", f"rerun {COURSE} {TERM}", user=ALICE, channel=CHANNEL)
    rid, plan = plan_message(slack, bot)
    slack.click(CHANNEL, plan.ts, buttons(plan)["Confirm"], ALICE)
    wait_status(slack, bot, rid, "completed")
    bot.workflow.wait_idle(10)

    got = scrape(bot)
    assert got["orc_requests"] == {("orc_requests_total", (("status", "completed"), ("type", "rerun"))): 1.0}

    steps = got["orc_step_duration_seconds"]
    applied = {dict(lab)["step"] for (name, lab), v in steps.items() if name.endswith("_count") and v}
    assert {"delete_hooks", "create_repo", "copy_repo", "add_hook"} <= applied, applied
    assert total(steps, "orc_step_duration_seconds_sum") > 0

    rest = [r for r in github.requests if "/api/v3/" in r.path or r.path.startswith("/api/")]
    assert len(rest) > 10 and len(rest) < len(github.requests)  # git's own HTTP is not REST
    counted = got["orc_github_requests"]
    assert total(counted, "orc_github_requests_total") == len(rest)
    assert total(counted, "orc_github_requests_total", method="POST") == sum(1 for r in rest if r.method == "POST")
    assert total(counted, "orc_github_requests_total", method="GET", status="404") == sum(
        1 for r in rest if r.method == "GET" and r.status == 404
    )

    stats = bot.workflow.pacer.stats
    assert got["orc_github_write_budget_waits"] == {("orc_github_write_budget_waits_total", ()): stats.waits}
    assert ("orc_github_write_budget_wait_seconds_total", ()) in got["orc_github_write_budget_wait_seconds"]

    assert got["orc_slack_api_errors"] == {
        ("orc_slack_api_errors_total", (("error", "user_not_found"), ("method", "users.info"))): 1.0
    }
    assert got["orc_scheduled_tasks_due"] == {("orc_scheduled_tasks_due", ()): 0.0}
    assert "orc_zendesk_outbox_depth" not in got  # Zendesk is not configured here
    assert github.repo("mitx", NEW_REPO) is not None


def test_scrape_time_gauges_read_the_store(github, sqlite_url):
    """Scheduled tasks due and the Zendesk outbox depth are counted in the store when scraped."""
    settings = settings_for(github, sqlite_url)
    store = open_store(sqlite_url)
    workflow = Workflow(settings, store)
    try:
        outbox = Outbox(store)
        workflow.metrics.watch_outbox(outbox)
        req = store.create_request("rerun", ALICE, {"course": COURSE}, "Rerun 8.01r")
        store.ensure_task("reminder", "due-1", utcnow() - timedelta(minutes=5))
        store.ensure_task("reminder", "due-2", utcnow() - timedelta(minutes=1))
        store.ensure_task("reminder", "later", utcnow() + timedelta(days=1))
        outbox.add(req.id, "open")

        got = families(workflow.metrics.render().decode())
        assert got["orc_scheduled_tasks_due"] == {("orc_scheduled_tasks_due", ()): 2.0}
        assert got["orc_zendesk_outbox_depth"] == {("orc_zendesk_outbox_depth", ()): 1.0}
    finally:
        workflow.shutdown()
        store.close()


def test_two_services_in_one_process_count_apart(github, sqlite_url, tmp_path):
    """Each workflow has its own registry: one's GitHub requests are not the other's."""
    first = Workflow(settings_for(github, sqlite_url), open_store(sqlite_url))
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    second = Workflow(settings_for(github, other_url), open_store(other_url))
    try:
        first.metrics.github_request("GET", "2xx")
        assert total(families(first.metrics.render().decode())["orc_github_requests"], "orc_github_requests_total") == 1
        assert (
            total(families(second.metrics.render().decode())["orc_github_requests"], "orc_github_requests_total") == 0
        )
    finally:
        for workflow in (first, second):
            workflow.shutdown()
            workflow.store.close()


def test_socket_mode_serves_metrics_on_its_health_port(sqlite_url):
    """In Socket Mode the HTTP port serves /healthz and /metrics too; a slash command over
    the socket whose users.info fails is counted there."""
    from bot.runtime import build
    from tests.fakes.slack import FakeSlack

    with FakeSlack(bot_token="xoxb-socket", app_token="xapp-1-A0001-1234-abcdef") as slack:
        slack.add_user(ALICE, name="alice", email="alice@mit.edu")
        slack.add_channel(CHANNEL, name="course-ops", members=[ALICE])
        settings = settings_for(
            None,
            sqlite_url,
            SLACK_API_URL=slack.api_url,
            SLACK_BOT_TOKEN="xoxb-socket",
            SLACK_APP_TOKEN="xapp-1-A0001-1234-abcdef",
        )
        runtime = build(settings).start(port=0, host="127.0.0.1")
        try:
            slack.wait_socket_connected(timeout=10)
            slack.transport = "socket"
            slack.fail("users.info", "ratelimited", times=1, status=200)
            slack.command("/orc", "help", user=ALICE, channel=CHANNEL)
            slack.wait_for(lambda: slack.responses(), timeout=10)
            assert requests.get(f"http://127.0.0.1:{runtime.port}/healthz", timeout=5).status_code == 200
            got = scrape(runtime)
        finally:
            runtime.workflow.wait_idle(timeout=10)
            runtime.stop()
        slack.assert_no_errors()
    assert total(got["orc_slack_api_errors"], "orc_slack_api_errors_total", method="users.info") == 1
    assert "orc_requests" in got and "orc_github_requests" in got
