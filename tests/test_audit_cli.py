"""`orcoursetrion audit`: the trail of real requests made against the fake GitHub — who,
what, when, each GitHub change with the URL of what it made — as text, CSV and JSON;
clear errors for a bad date or an unknown request; secrets masked."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest

from orcoursetrion.cli import main
from tests.conftest import PRODUCTION, STAGING

ORG, NAME = "MITx-Studio2LMS", "content-mit-801r-Fall_2030"


def changes_printed(err: str) -> list[str]:
    """The `✓` progress lines of a command: the GitHub changes it made."""
    return [line.strip()[2:] for line in err.splitlines() if line.strip().startswith("✓")]


def audit_json(cli, *argv: str) -> list[dict]:
    code, out, err = cli("audit", *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_the_trail_names_who_what_when_and_each_change_with_its_url(cli, github):
    """Given a Studio course created and released from the command line, its audit lists
    exactly the changes the commands reported, each with the address of the repo, team
    access, commit or hook GitHub now has."""
    code, _, created = cli("create_export_repo", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 0, created
    code, _, released = cli("release_studio", "-c", "8.01r", "-t", "Fall_2030")
    assert code == 0, released
    web = github.api_url.split("/api/")[0]
    repo_url = f"{web}/{ORG}/{NAME}"
    commits = [c["sha"] for c in github.commits(ORG, NAME)]
    hook = github.repo(ORG, NAME).hooks[0]
    assert hook["config"]["url"] == PRODUCTION

    first = [e for e in audit_json(cli, "--request", "1") if e["kind"] == "github"]
    assert [e["detail"] for e in first] == changes_printed(created)
    assert [e["url"] for e in first] == [
        repo_url,
        f"{repo_url}/settings/access",
        *[f"{repo_url}/commit/{sha}" for sha in reversed(commits)],  # .gitignore, then course.xml
    ]
    assert {e["request_id"] for e in first} == {1} and {e["request"] for e in first} == {
        "create_export_repo 8.01r Fall_2030"
    }
    second = audit_json(cli, "--request", "2")
    assert [e["url"] for e in second if e["kind"] == "github"] == [f"{repo_url}/settings/hooks/{hook['id']}"]
    transitions = [(e["actor"].split(":")[0], e["event"]) for e in second if e["kind"] == "transition"]
    assert transitions[:2] == [("cli", "created:draft"), ("cli", "approved")] and transitions[-1][1] == "completed"
    assert all(datetime.fromisoformat(e["at"]).tzinfo is not None for e in second)

    code, text, _ = cli("audit", "--request", "2")
    assert code == 0
    assert text.startswith("Request #2 — ") and "Completed; requested by cli:" in text
    assert "https://***@gitreload-prod.example.edu/" in text and f"{repo_url}/settings/hooks/{hook['id']}" in text
    assert "Request #1" not in text


def test_csv_and_since_select_what_tools_need(cli, github):
    assert cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice")[0] == 0
    assert cli("release_xml", "-c", "8.01r", "-t", "Fall_2030")[0] == 0

    code, out, _ = cli("audit", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["at", "request_id", "request", "actor", "kind", "event", "detail", "url"]
    assert {r["request_id"] for r in rows} == {"1", "2"}
    assert [r["url"].rsplit("/", 2)[-2:] for r in rows if r["event"] == "done:add_hook"] == [
        ["hooks", str(h["id"])] for h in github.repo("mitx", NAME).hooks
    ]
    assert "https://***@gitreload-staging.example.edu/" in out and STAGING not in out

    start_of_second = next(r["at"] for r in rows if r["request_id"] == "2")
    later = audit_json(cli, "--since", start_of_second)
    assert later and {e["request_id"] for e in later} == {2}
    day = start_of_second[:10]
    assert len(audit_json(cli, "--since", day)) == len(rows)
    code, out, _ = cli("audit", "--since", "2999-01-01")
    assert code == 0 and out.strip() == "No audit events since 2999-01-01 00:00:00 UTC."


def test_a_resumed_request_keeps_every_change_and_its_url(cli, github):
    """A command that failed at the hook and was run again: one repo creation in the trail,
    and the hook's URL is the hook GitHub has."""
    github.fail("POST", rf"/repos/mitx/{NAME}/hooks$", 500, times=20)
    assert cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice")[0] == 1
    github.clear_faults()
    code, _, err = cli("create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice")
    assert code == 0 and "Resuming request #1" in err

    trail = audit_json(cli, "--request", "1")
    made = [e for e in trail if e["kind"] == "github"]
    assert [e["event"] for e in made].count("done:create_repo") == 1
    assert all(e["url"] for e in made)
    hook = github.repo("mitx", NAME).hooks[0]
    assert made[-1]["event"] == "done:add_hook" and made[-1]["url"].endswith(f"/settings/hooks/{hook['id']}")
    assert [e["event"] for e in trail if e["kind"] == "transition"].count("failed") == 1


def test_bad_dates_and_unknown_requests_are_one_clear_line(cli, github, capsys):
    for argv, needle in (
        (["audit", "--since", "last tuesday"], "argument --since: not a date: 'last tuesday' (use YYYY-MM-DD"),
        (["audit", "--since", "2030-02-30"], "not a date: '2030-02-30'"),
        (["audit", "--request", "twelve"], "argument --request: not a request number: 'twelve'"),
        (["audit", "--request", "0"], "not a request number"),
        (["audit", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    ):
        with pytest.raises(SystemExit) as done:
            main(argv)
        err = capsys.readouterr().err
        assert done.value.code == 2 and needle in err and "Traceback" not in err, err
    code, out, err = cli("audit", "--request", "7")
    assert (code, out, err) == (1, "", "orcoursetrion: error: There is no request #7.\n")
    code, out, _ = cli("audit", "--request", "#7")
    assert code == 1
    assert github.count() == 0


def test_each_journaled_operation_has_its_github_address():
    from orcoursetrion.changes import change_url, web_base

    assert web_base("https://github.mit.edu/api/v3/") == "https://github.mit.edu"
    assert web_base("https://api.github.com") == "https://github.com"
    web, repo = "https://github.com", "https://github.com/mitx/content-mit-801r-Fall_2030"
    target = "mitx/content-mit-801r-Fall_2030"
    assert change_url(web, "create_repo", target, {"id": 7}) == repo
    assert change_url(web, "copy_repo", target, {"sha": "abc123"}) == f"{repo}/commit/abc123"
    assert change_url(web, "delete_hooks", target, {"removed": 2}) == f"{repo}/settings/hooks"
    assert change_url(web, "add_hook", f"{target}#staging", {"id": 5000}) == f"{repo}/settings/hooks/5000"
    assert change_url(web, "add_file", f"{target}:course.xml", {"sha": None}) == f"{repo}/blob/HEAD/course.xml"
    assert change_url(web, "create_branch", f"{target}:live", {"sha": "abc"}) == f"{repo}/tree/live"
    assert change_url(web, "grant_team", f"{target}@physics-staff", {}) == f"{repo}/settings/access"
    assert change_url(web, "ensure_team", "mitx/physics-staff", {}) == f"{web}/orgs/mitx/teams/physics-staff"
    assert change_url(web, "set_members", "mitx/physics-staff", {}) == f"{web}/orgs/mitx/teams/physics-staff/members"
    assert change_url(web, "something_new", target, {}) is None
