"""A script written for orcoursetrion 0.2.1 runs unchanged against the product: every
public name, configured by assigning `orcoursetrion.config` attributes, against the fake
GitHub; the test checks GitHub's end state and the shapes the script got back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from tests.conftest import PRODUCTION, SECRETS, STAGING, TOKEN

EXPORT = "content-mit-801r-Fall_2030"
XML = "content-mit-6002x-Fall_2030"

# Written the way 0.2.1's users wrote them: nothing in it knows about the product.
SCRIPT = textwrap.dedent(
    """
    import argparse
    import json
    import sys

    import orcoursetrion
    from orcoursetrion import actions, config
    from orcoursetrion.actions import github as github_actions
    from orcoursetrion.cmd import execute, run_release_xml
    from orcoursetrion.lib import (
        GitHub, GitHubException, GitHubNoTeamFound, GitHubRepoDoesNotExist, GitHubRepoExists, GitHubUnknownError,
    )

    api_url, token, staging, production = sys.argv[1:5]
    config.ORC_GH_OAUTH2_TOKEN = token
    config.ORC_GH_API_URL = api_url
    config.ORC_STAGING_GITRELOAD = staging
    config.ORC_PRODUCTION_GITRELOAD = production
    out = {"version": orcoursetrion.VERSION, "keys": sorted(config.CONFIG_KEYS), "all": github_actions.__all__}
    out["same"] = actions.create_xml_repo is github_actions.create_xml_repo

    out["export"] = actions.create_export_repo("8.01r", "Fall_2030", "Physics I")
    out["rerun_studio"] = actions.rerun_studio("8.01r", "Fall_2030", "Spring_2031")
    out["release_studio"] = actions.release_studio("8.01r", "Spring_2031")
    out["xml"] = github_actions.create_xml_repo("6.002x", "Fall_2030", members=["alice", "bob"])
    out["release_xml"] = actions.release_xml("6.002x", "Fall_2030")
    out["rerun_xml"] = actions.rerun_xml("6.002x", "Fall_2030")
    out["team"] = actions.put_team("mitx", "Physics Staff", True, ["carol"])
    try:
        actions.create_xml_repo("6.002x", "Fall_2030")
    except GitHubRepoExists as exc:
        out["exists"] = [isinstance(exc, GitHubException), str(exc)]

    github = GitHub(config.ORC_GH_API_URL, config.ORC_GH_OAUTH2_TOKEN)
    out["lib_repo"] = github.create_repo("mitx", "scratch", "A scratch repo")
    github.add_team_repo("mitx", "scratch", "mitx-content-deployment")
    out["lib_team"] = github.put_team("mitx", "Scratch Team", False, ["dave"])
    out["lib_hook"] = github.add_web_hook("mitx", "scratch", config.ORC_STAGING_GITRELOAD)
    github.add_repo_file(
        "mitx", "scratch", github_actions.COMMITTER, github_actions.GITIGNORE_MESSAGE,
        github_actions.GITIGNORE_PATH, github_actions.GITIGNORE_CONTENTS,
    )
    out["lib_deleted"] = github.delete_web_hooks("mitx", "scratch")
    copy = github.create_repo("mitx", "scratch-copy", None)
    GitHub.shallow_copy_repo(out["lib_repo"]["clone_url"], copy["clone_url"], github_actions.COMMITTER)
    errors = []
    for call, expected in (
        (lambda: github.delete_web_hooks("mitx", "no-such-repo"), GitHubRepoDoesNotExist),
        (lambda: github.add_team_repo("mitx", "scratch", "No Such Team"), GitHubNoTeamFound),
        (lambda: github.add_web_hook("mitx", "no-such-repo", config.ORC_STAGING_GITRELOAD), GitHubUnknownError),
    ):
        try:
            call()
        except expected as exc:
            errors.append(type(exc).__name__)
    out["errors"] = errors

    out["run_release_xml"] = run_release_xml(argparse.Namespace(course="6.002x", term="Fall_2030"))
    sys.argv = ["orcoursetrion", "put_team", "-o", "mitx", "-g", "Scratch Team", "-m", "alice"]
    out["execute"] = execute()
    print(json.dumps(out))
    """
)


def test_a_021_script_runs_unchanged(github, tmp_path):
    github.add_team("mitx", "Physics Staff", permission="push")
    script = tmp_path / "provision.py"
    script.write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'orc.db'}"
    done = subprocess.run(
        [sys.executable, str(script), github.api_url + "/", TOKEN, STAGING, PRODUCTION],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    out = json.loads(lines[-1])
    for secret in SECRETS:  # the last line is the script's own data (the hook as GitHub returned it)
        assert secret not in "\n".join(lines[:-1]) and secret not in done.stderr

    assert out["version"] == __import__("orcoursetrion").VERSION
    assert len(out["keys"]) == 11 and out["same"] is True
    assert sorted(out["all"]) == sorted(
        [
            "create_export_repo",
            "rerun_studio",
            "release_studio",
            "create_xml_repo",
            "rerun_xml",
            "release_xml",
            "put_team",
        ]
    )

    # Repo results are GitHub's whole JSON, as 0.2.1 returned them.
    for key, org, name in (
        ("export", "MITx-Studio2LMS", EXPORT),
        ("rerun_studio", "MITx-Studio2LMS", "content-mit-801r-Spring_2031"),
        ("xml", "mitx", XML),
        ("lib_repo", "mitx", "scratch"),
    ):
        repo = out[key]
        assert {"id", "node_id", "owner", "permissions", "html_url", "clone_url", "ssh_url", "created_at"} <= set(repo)
        assert len(repo) > 70 and repo["full_name"] == f"{org}/{name}" and repo["private"] is True
        assert repo["id"] == github.repo(org, name).id and repo["owner"]["login"] == org
    assert out["release_studio"] is None and out["release_xml"] is None
    assert out["rerun_xml"] == 2 and isinstance(out["rerun_xml"], int)
    assert out["exists"][0] is True and f"mitx/{XML}" in out["exists"][1]

    # End state of the actions.
    assert github.repo("MITx-Studio2LMS", EXPORT).hooks == []  # rerun_studio took the old run's hooks off
    assert [h["config"]["url"] for h in github.repo("MITx-Studio2LMS", "content-mit-801r-Spring_2031").hooks] == [
        PRODUCTION
    ]
    # staging + production, rerun_xml removed both, then run_release_xml added production again
    assert [h["config"]["url"] for h in github.repo("mitx", XML).hooks] == [PRODUCTION]
    assert set(github.team("mitx", XML.lower()).members) == {"alice", "bob"}
    physics = github.team("mitx", "physics-staff")
    assert set(physics.members) == {"carol"} and physics.permission == "push"  # existing team keeps push
    assert {"id", "node_id", "slug", "permission", "html_url", "members_url"} <= set(out["team"])
    assert out["team"]["slug"] == "physics-staff"

    # The library client.
    assert out["lib_team"]["slug"] == "scratch-team" and out["lib_team"]["permission"] == "push"
    assert {"id", "config", "events", "active"} <= set(out["lib_hook"]) and "***" not in json.dumps(out["lib_hook"])
    assert out["lib_deleted"] == 1 and github.repo("mitx", "scratch").hooks == []
    assert github.team("mitx", "mitx-content-deployment").repos["mitx/scratch"] == "push"
    assert github.files("mitx", "scratch") == {".gitignore": b"drafts/\n"}
    assert github.files("mitx", "scratch-copy") == {".gitignore": b"drafts/\n"}
    (commit,) = github.commits("mitx", "scratch-copy")
    assert commit["message"].startswith("Initial rerun copy by Orcoursetrion from http")
    assert out["errors"] == ["GitHubRepoDoesNotExist", "GitHubNoTeamFound", "GitHubUnknownError"]

    # The command-line module: run_<action> and execute() return the exit status.
    assert out["run_release_xml"] == 0 and "Added production Web hooks to course at http" in done.stdout
    assert out["execute"] == 0 and "Team successfully modified/created" in done.stdout
    assert set(github.team("mitx", "scratch-team").members) == {"alice"}
    # Teams were found by slug, never by listing the org's teams.
    assert not [r for r in github.requests if r.method == "GET" and r.path.endswith("/orgs/mitx/teams")]
