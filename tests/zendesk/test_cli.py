"""The command line opens a ticket too (requester: ZENDESK_EMAIL, as there is no Slack
user) and prints its link on the line after the result."""

from __future__ import annotations

import os

from orcoursetrion.cli import main
from tests.conftest import SECRETS, make_env
from tests.zendesk.conftest import zendesk_env

NAME = "content-mit-801r-Fall_2030"


def test_a_cli_action_gets_a_solved_ticket_and_prints_its_link(github, zd, sqlite_url, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_")) or key == "DATABASE_URL":
            monkeypatch.delenv(key)
    for key, value in {**make_env(github, sqlite_url), **zendesk_env(zd)}.items():
        monkeypatch.setenv(key, value)

    code = main(["create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice"])

    out, err = capsys.readouterr()
    assert code == 0, err
    result, ticket_line = out.strip().splitlines()
    assert result.startswith("Newly created repository for XML course created at http") and result.endswith(NAME)
    [ticket] = zd.tickets()
    assert ticket_line == f"Zendesk ticket: {zd.url}/agent/tickets/{ticket['id']}"
    assert ticket["status"] == "solved" and ticket["requester_id"] == zd.agent["id"]
    assert ticket["subject"] == "create_xml_repo 8.01r Fall_2030" and "orc_action" in ticket["tags"]
    bodies = [c["body"] for c in zd.comments(ticket["id"])]
    assert "Requested by cli:" not in bodies[0] and "(command line)" in bodies[0]
    assert any("Their GitHub logins on the repository team: alice" in b for b in bodies)
    assert all(secret not in out + err for secret in SECRETS)
