"""What the ticket says for each kind of request: the steps left to the agent (LMS import,
Studio runs and dates, course team roles), and the approval note."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orcoursetrion.config import load_settings
from orcoursetrion.store import ItemView, RequestView, RunView
from orcoursetrion.ticket_text import event_notes, manual_steps

SETTINGS = load_settings({"ORC_GH_API_URL": "https://github.mit.edu/api/v3/"}, env_file=None)
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
GH = "https://github.mit.edu"


def request(type_: str, params: dict, links: list[str] | None = None) -> RequestView:
    return RequestView(
        id=7, type=type_, status="completed", version=5, requester="UALICE", requester_name="Alice",
        params=params, plan=[], notes=None, confirm_warning=None, announced=None, summary="s", desired_at=None,
        channel="C1", message_ts=None,
        approval_channel=None, approval_ts=None, ticket_id=1001, decided_by=None, reason=None,
        result={"message": "done", "links": links or []}, error=None, error_step=None, attempts=1,
        stop_requested_by=None, lease_owner=None, lease_expires_at=None, created_at=NOW, updated_at=NOW,
        started_at=NOW, finished_at=NOW,
    )  # fmt: skip


def run(course: str, term: str, kind: str, org: str, members: tuple[str, ...] = ()) -> RunView:
    name = f"content-mit-{course.replace('.', '')}-{term}"
    return RunView(course, term, kind, org, name, f"{GH}/{org}/{name}", name, None, members)


def joined(steps: list[str]) -> str:
    return "\n".join(steps)


def test_a_new_studio_course_is_created_in_studio_and_connected_to_its_export_repo():
    req = request("new", {"kind": "studio", "course": "8.01r", "term": "Fall_2030"})
    steps = manual_steps(
        req, SETTINGS, {("8.01r", "Fall_2030"): run("8.01r", "Fall_2030", "studio", "MITx-Studio2LMS")}
    )
    assert (
        steps[0]
        == "Create the course in Studio: New Course with Organization MITx, Course Number 8.01r, Course Run Fall_2030."
    )
    assert "“Git URL”: git@github.mit.edu:MITx-Studio2LMS/content-mit-801r-Fall_2030.git" in steps[1]
    assert "Schedule & Details" in steps[2] and "Studio → Settings → Course Team of 8.01r Fall_2030" in steps[3]


def test_a_studio_rerun_is_rerun_in_studio_with_new_dates():
    req = request("rerun", {"kind": "studio", "course": "8.01r", "term": "Fall_2030", "new_term": "Spring_2031"})
    runs = {("8.01r", "Spring_2031"): run("8.01r", "Spring_2031", "studio", "MITx-Studio2LMS", ("alice",))}
    text = joined(manual_steps(req, SETTINGS, runs))
    assert "open 8.01r Fall_2030 → Re-run Course, with Course Run Spring_2031" in text
    assert "the rerun starts with Fall_2030's dates" in text and "GitHub logins on the repository team: alice" in text


@pytest.mark.parametrize(
    ("type_", "params", "expected"),
    [
        ("release", {"kind": "xml", "course": "8.01r", "term": "Fall_2030"}, "production LMS"),
        ("team", {"kind": "xml", "course": "8.01r", "term": "Fall_2030", "members": ["bob"]}, "logins on the repository team: bob"),
        ("action", {"action": "create_export_repo", "args": {"course": "8.01r", "term": "Fall_2030"}}, "Create the course in Studio"),
        ("action", {"action": "release_xml", "args": {"course": "8.01r", "term": "Fall_2030"}}, "(branch live)"),
    ],
)  # fmt: skip
def test_each_kind_of_request_says_what_is_left(type_, params, expected):
    assert expected in joined(manual_steps(request(type_, params), SETTINGS, {}))


def test_hook_only_actions_leave_nothing_and_a_rollover_lists_each_new_run():
    assert manual_steps(request("action", {"action": "rerun_xml", "args": {}}), SETTINGS, {}) == []
    params = {"term": "Fall_2030", "new_term": "Spring_2031", "courses": ["8.01r", "8.02"]}
    items = [
        ItemView(1, 0, "8.01r", "xml", "done", f"{GH}/mitx/content-mit-801r-Spring_2031", None),
        ItemView(2, 1, "8.02", "xml", "failed", None, "boom"),
    ]
    text = joined(manual_steps(request("rollover", params), SETTINGS, {}, items))
    assert "Import 8.01r Spring_2031" in text and "git@github.mit.edu:mitx/content-mit-801r-Spring_2031.git" in text
    assert "8.02" not in text


def test_the_approval_note_mentions_the_tags_only_when_the_webhook_is_set_up():
    req = request("rerun", {"course": "8.01r", "term": "Fall_2030", "new_term": "Spring_2031"})
    [with_hook] = event_notes("pending_approval", req, "UALICE", None, {}, webhook=True)
    [without] = event_notes("pending_approval", req, "UALICE", None, {}, names=lambda u: "Alice I.", webhook=False)
    assert not with_hook.public and "add the tag orc_approve" in with_hook.body
    assert "orc_approve" not in without.body and without.body.startswith("Confirmed by Alice I. (Slack UALICE).")
