"""GitHub App authentication end to end: real PyGithub (its JWTs verified by the fake with
an RS256 key the test generates) and real git, installation tokens that expire, two orgs on
two installations, the configuration's problems, and the private key kept secret."""

from __future__ import annotations

import logging
import os
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from orcoursetrion import actions
from orcoursetrion.actions import live_context, plan_context
from orcoursetrion.config import load_settings
from orcoursetrion.errors import ConfigError, GitHubAppNotInstalled, GitHubAuthError, user_message
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.pacing import Pacer
from orcoursetrion.store import open_store
from orcoursetrion.workflow import Workflow
from tests.apps import console_script
from tests.conftest import PRODUCTION, STAGING, assert_documented_api, make_env, seed
from tests.fakes.github import FakeGitHub

APP_ID = 4242
BOT = "orc-app[bot]"
XML, STUDIO = "mitx", "MITx-Studio2LMS"
OLD, NEW = "content-mit-801r-Fall_2030", "content-mit-801r-Spring_2031"
COURSE_XML = b'<course url_name="Fall_2030" org="MITx" course="8.01r"/>\n'


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = _pem(_KEY)
PUBLIC_PEM = _KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
OTHER_PEM = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
KEY_LINES = [line for line in PRIVATE_PEM.splitlines() if line and not line.startswith("-----")]


def app_env(gh: FakeGitHub, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a deployment acting as the App (no personal access token); the key
    `\\n`-escaped on one line, as env vars and secret stores often carry it."""
    env = make_env(gh, database_url, ORC_GH_APP_ID=str(APP_ID), ORC_GH_APP_PRIVATE_KEY=PRIVATE_PEM.replace("\n", "\\n"))
    del env["ORC_GH_OAUTH2_TOKEN"]
    env.update(extra)
    return env


def app_settings(gh: FakeGitHub, database_url: str, **extra: str):
    return load_settings(app_env(gh, database_url, **extra), env_file=None)


@pytest.fixture
def gh():
    """MIT's two orgs with the App installed on each (two installations); no user token in use."""
    with FakeGitHub(token="ghp_not_used_by_the_product") as fake:
        seed(fake)
        fake.add_app(APP_ID, PUBLIC_PEM, slug="orc-app")
        fake.installations = {XML: fake.install_app(APP_ID, XML), STUDIO: fake.install_app(APP_ID, STUDIO)}
        yield fake
        assert not fake.server_errors, fake.server_errors
        assert_documented_api(fake)


def old_run(gh: FakeGitHub) -> None:
    files = {
        "course.xml": COURSE_XML,
        "course/Fall_2030.xml": b'<course display_name="Physics"/>\n',
        "policies/Fall_2030/policy.json": b'{"course/Fall_2030": {"start": "2030-09-01"}}\n',
        "static/logo.png": bytes(range(256)),
    }
    gh.add_repo(XML, OLD, files=files)
    gh.add_hook(XML, OLD, STAGING)
    gh.add_team(XML, OLD, permission="push", members=["alice", "carol"])
    gh.grant(XML, OLD.lower(), XML, OLD, "push")


def tokens_by_installation(gh: FakeGitHub) -> set[int]:
    return {t["installation_id"] for t in gh.installation_tokens()}


# -- the actions, as the App -----------------------------------------------------------------
def test_create_release_and_full_rerun_act_as_the_app_in_both_orgs(gh, sqlite_url):
    settings = app_settings(gh, sqlite_url)
    assert settings.gh_app and settings.gh_configured and not settings.dry_run_only

    made = actions.create_xml_repo("8.01r", "Fall_2030", members=["alice", "bob"], ctx=live_context(settings))
    assert made["html_url"].endswith(f"/{XML}/{OLD}")
    repo = gh.repo(XML, OLD)
    assert repo.private and repo.created_by == BOT
    assert gh.team(XML, OLD.lower()).members == {"alice": "member", "bob": "member"}  # exactly: the App is no member
    assert gh.team(XML, OLD.lower()).repos[f"{XML}/{OLD}"] == "push"
    assert [h["config"]["url"] for h in repo.hooks] == [STAGING]

    studio = actions.create_export_repo("8.01r", "Fall_2030", ctx=live_context(settings))
    assert gh.repo(STUDIO, studio["name"]).created_by == BOT
    commit = gh.commits(STUDIO, studio["name"])[0]
    assert (commit["author_name"], commit["committer_name"]) == ("Orcoursetrion", "Orcoursetrion")
    assert commit["committer_email"] == "orcoursetrion@mit.edu"
    # each org's requests went with its own installation's token
    assert tokens_by_installation(gh) == set(gh.installations.values())

    gh.add_commit(XML, OLD, {"course.xml": COURSE_XML}, message="course content")
    gh.expire_installation_tokens()  # between two requests: the next one renews its token
    actions.move_to_production("8.01r", "Fall_2030", "xml", ctx=live_context(settings))
    assert {h["config"]["url"] for h in gh.repo(XML, OLD).hooks} == {STAGING, PRODUCTION}
    assert "live" in gh.branches(XML, OLD)

    gh.expire_installation_tokens()
    rerun = actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
    assert rerun["html_url"].endswith(f"/{XML}/{NEW}")
    files = gh.files(XML, NEW)
    assert files["course.xml"] == COURSE_XML.replace(b"Fall_2030", b"Spring_2031")
    commits = gh.commits(XML, NEW)
    assert len(commits) == 1 and commits[0]["author_name"] == "Orcoursetrion"  # git commits as ORC_GH_NAME
    assert commits[0]["author_email"] == "orcoursetrion@mit.edu"
    assert gh.team(XML, NEW.lower()).members == {"alice": "member", "bob": "member"}  # carried over, no bot
    assert not [r for r in gh.requests if r.path == "/api/v3/user"]  # an installation has no /user: /app tells


def test_exact_team_under_the_app_names_no_bot_to_remove_and_holds(gh, sqlite_url):
    settings = app_settings(gh, sqlite_url)
    ctx = plan_context(settings)
    actions.put_team(XML, "Physics Staff", False, ["alice"], ctx=ctx)
    texts = [c.text for c in ctx.changes]
    assert "Create team Physics Staff in mitx (push)" in texts
    assert "Make the members of team Physics Staff exactly: alice" in texts and BOT not in " ".join(texts)
    actions.put_team(XML, "Physics Staff", False, ["alice"], ctx=live_context(settings))
    assert gh.team(XML, "physics-staff").members == {"alice": "member"}


def test_a_token_near_its_expiry_is_renewed_before_use_under_the_one_pacer(gh, sqlite_url):
    settings = app_settings(gh, sqlite_url)
    pacer = Pacer(1000, 10000, 4)
    gh.installation_token_ttl = 2  # renewed once less than half its life (1 s) is left
    actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings, pacer=pacer))
    assert gh.installation_tokens_issued == 1
    time.sleep(1.2)
    actions.release_xml("8.01r", "Fall_2030", ctx=live_context(settings, pacer=pacer))
    assert gh.installation_tokens_issued == 2
    assert not [r for r in gh.requests if r.status == 401]  # renewed ahead: GitHub never refused one
    writes = [r for r in gh.requests if r.method in ("POST", "PUT", "PATCH", "DELETE")]
    assert pacer.stats.writes == len(writes)  # the token mints too went through the account's one budget
    assert sum(r.path.endswith("/access_tokens") for r in writes) == 2


def test_a_token_refused_twice_is_one_clear_auth_error(gh, sqlite_url):
    settings = app_settings(gh, sqlite_url)
    gh.fail("GET", rf"/repos/{XML}/{OLD}$", 401, times=2)
    with pytest.raises(GitHubAuthError) as raised:
        actions.release_xml("8.01r", "Fall_2030", ctx=live_context(settings))
    assert "401" in str(raised.value)
    assert gh.installation_tokens_issued == 2  # the first, and the one minted after the first 401


def test_the_app_not_installed_on_an_org_is_named_before_any_change(gh, sqlite_url):
    with FakeGitHub() as one_org:
        seed(one_org)
        one_org.add_app(APP_ID, PUBLIC_PEM)
        one_org.install_app(APP_ID, XML)
        settings = app_settings(one_org, sqlite_url)
        with pytest.raises(GitHubAppNotInstalled):  # the plan says so too
            actions.create_export_repo("8.01r", "Fall_2030", ctx=plan_context(settings))
        with pytest.raises(GitHubAppNotInstalled) as raised:
            actions.create_export_repo("8.01r", "Fall_2030", ctx=live_context(settings))
        assert f"not installed on the organization '{STUDIO}'" in user_message(raised.value)
        assert one_org.count("POST", "/orgs/") == 0
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings))  # its own org works
        assert one_org.repo(XML, OLD).created_by == BOT


def test_a_given_installation_id_is_used_without_looking_it_up(sqlite_url):
    with FakeGitHub() as one_org:
        seed(one_org)
        one_org.add_app(APP_ID, PUBLIC_PEM)
        installation = one_org.install_app(APP_ID, XML)
        settings = app_settings(one_org, sqlite_url, ORC_GH_APP_INSTALLATION_ID=str(installation))
        actions.create_xml_repo("8.01r", "Fall_2030", members=["bob"], ctx=live_context(settings))
        assert one_org.team(XML, OLD.lower()).members == {"bob": "member"}
        assert one_org.count("GET", f"/orgs/{XML}/installation") == 0
        assert one_org.count("GET", f"/app/installations/{installation}") == 1
        assert tokens_by_installation(one_org) == {installation}

        wrong = app_settings(one_org, sqlite_url, ORC_GH_APP_INSTALLATION_ID=str(installation + 50))
        with pytest.raises(GitHubAuthError) as raised:
            actions.release_xml("8.01r", "Fall_2030", ctx=live_context(wrong))
        assert f"ORC_GH_APP_INSTALLATION_ID: GitHub App {APP_ID} has no installation {installation + 50}" in str(
            raised.value
        )


# -- a rollover across a token's expiry ---------------------------------------------------------
def test_tokens_expiring_mid_rollover_are_renewed_without_a_failed_step(gh, sqlite_url):
    xml_courses, studio_courses = ["18.01", "18.02", "18.03"], ["2.001", "2.002", "2.003"]
    for course in xml_courses:
        name = f"content-mit-{course.replace('.', '')}-Fall_2030"
        gh.add_repo(XML, name, files={"course.xml": b'<course url_name="Fall_2030"/>', "x.txt": course.encode()})
        gh.add_team(XML, name, members=["alice"])
    for course in studio_courses:
        gh.add_repo(STUDIO, f"content-mit-{course.replace('.', '')}-Fall_2030", files={"course.xml": b"<course/>"})
    gh.installation_token_ttl = 6  # short-lived tokens: renewed ahead of expiry (with half their life left)
    settings = app_settings(gh, sqlite_url, ORC_ROLLOVER_CONCURRENCY="2")
    store = open_store(settings.database_url)
    wf = Workflow(settings, store)
    # Two requests held at GitHub's door while every token expires: the second XML course's
    # git push, and the third Studio repo's creation.
    push = gh.block("POST", r"/mitx/content-mit-1802-Spring_2031\.git/git-receive-pack$")
    create = gh.block("POST", rf"/orgs/{STUDIO}/repos$")
    try:
        req = wf.create(
            RequestType.ROLLOVER,
            "U1",
            {"term": "Fall_2030", "new_term": "Spring_2031", "courses": xml_courses + studio_courses},
        )
        wf.confirm(req.id, "U1")
        for gate in (push, create):
            assert gate.wait_hit(60)
            assert gh.expire_installation_tokens() >= 1
            gate.release()
        assert wf.wait_idle(90)
        done = store.get(req.id)
        assert done.state == Status.COMPLETED, done.error
        assert [i.status for i in store.items(req.id)] == ["done"] * 6
        assert not [e for e in store.events(req.id) if e.name.startswith("refused:")]
    finally:
        push.release()
        create.release()
        wf.shutdown()
        store.close()
    for course in xml_courses:
        assert len(gh.commits(XML, f"content-mit-{course.replace('.', '')}-Spring_2031")) == 1
    refused = [r for r in gh.requests if r.status == 401]
    assert any(r.path.endswith("git-receive-pack") for r in refused)  # git's push was refused once...
    assert any(r.path.endswith(f"/orgs/{STUDIO}/repos") for r in refused)  # ...and so was a REST write
    assert gh.count("POST", f"/orgs/{STUDIO}/repos") == 3 + 1  # the refused one sent again, nothing twice
    assert gh.installation_tokens_issued >= 4
    assert gh.secondary_limit_hits == 0


# -- configuration -------------------------------------------------------------------------------
def _problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_settings(env, env_file=None)
    text = str(raised.value)
    assert PRIVATE_PEM not in text and not any(line in text for line in KEY_LINES)
    return raised.value.problems


def _ec_pem() -> str:
    return _pem(ec.generate_private_key(ec.SECP256R1()))


def _encrypted_pem() -> str:
    return _KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        (
            {"ORC_GH_APP_ID": "orc-app", "ORC_GH_APP_PRIVATE_KEY": PRIVATE_PEM},
            "ORC_GH_APP_ID: must be a whole number (the numeric ID GitHub shows on the App's settings page)",
        ),
        (
            {"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY": "ghp_this_is_a_token_not_a_key"},
            "ORC_GH_APP_PRIVATE_KEY: must be a PEM private key (the .pem file GitHub generates, starting -----BEGIN)",
        ),
        (
            {"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY": PRIVATE_PEM[: len(PRIVATE_PEM) // 2]},
            "ORC_GH_APP_PRIVATE_KEY: is not a readable PEM private key (damaged or cut short?)",
        ),
        (
            {"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY": _ec_pem()},
            "ORC_GH_APP_PRIVATE_KEY: must be an RSA private key (GitHub Apps sign with RS256)",
        ),
        (
            {"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY": _encrypted_pem()},
            "ORC_GH_APP_PRIVATE_KEY: is encrypted with a passphrase; GitHub's App keys are not "
            "(use the .pem GitHub gave)",
        ),
        (
            {"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY": PRIVATE_PEM, "ORC_GH_OAUTH2_TOKEN": "ghp_personal"},
            "ORC_GH_OAUTH2_TOKEN: set it or the GitHub App (ORC_GH_APP_ID), not both: they act as different accounts",
        ),
        (
            {"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY_FILE": "/nonexistent/orc-app.pem"},
            "ORC_GH_APP_PRIVATE_KEY_FILE: cannot be read (no such file)",
        ),
        (
            {"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY_FILE": "/"},
            "ORC_GH_APP_PRIVATE_KEY_FILE: cannot be read (is a directory)",
        ),
        (
            {"ORC_GH_APP_ID": "4242"},
            "ORC_GH_APP_PRIVATE_KEY: required when ORC_GH_APP_ID is set (the App's .pem, or "
            "ORC_GH_APP_PRIVATE_KEY_FILE)",
        ),
        (
            {"ORC_GH_APP_PRIVATE_KEY": PRIVATE_PEM},
            "ORC_GH_APP_ID: required when a GitHub App key or installation is set",
        ),
        (
            {"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY": PRIVATE_PEM, "ORC_GH_APP_INSTALLATION_ID": "-3"},
            "ORC_GH_APP_INSTALLATION_ID: must be a whole number (the numeric ID GitHub shows on the App's settings "
            "page)",
        ),
    ],
    ids=[
        "app-id",
        "not-pem",
        "cut-short",
        "not-rsa",
        "encrypted",
        "token-too",
        "no-file",
        "dir",
        "no-key",
        "no-id",
        "installation",
    ],
)
def test_each_app_setting_problem_is_one_line(env, problem):
    assert _problems(env) == [problem]


def test_key_file_and_key_together_are_refused(tmp_path):
    path = tmp_path / "orc-app.pem"
    path.write_text(PRIVATE_PEM)
    env = {"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY": PRIVATE_PEM, "ORC_GH_APP_PRIVATE_KEY_FILE": str(path)}
    assert _problems(env) == ["ORC_GH_APP_PRIVATE_KEY_FILE: set it or ORC_GH_APP_PRIVATE_KEY, not both"]


def test_the_key_is_read_as_pem_escaped_or_from_its_file_and_never_printed(tmp_path):
    path = tmp_path / "orc-app.pem"
    path.write_text(PRIVATE_PEM)
    by_file = load_settings({"ORC_GH_APP_ID": "4242", "ORC_GH_APP_PRIVATE_KEY_FILE": str(path)}, env_file=None)
    escaped = load_settings(
        {"ORC_GH_APP_ID": " 4242 ", "ORC_GH_APP_PRIVATE_KEY": '"' + PRIVATE_PEM.replace("\n", "\\n") + '"'},
        env_file=None,
    )
    for settings in (by_file, escaped):
        assert settings.gh_app_id == 4242 and settings.gh_app and settings.gh_configured
        assert settings.gh_app_private_key == PRIVATE_PEM
        shown = repr(settings) + str(settings)
        assert not any(line in shown for line in KEY_LINES)
    bot = load_settings(
        {
            "ORC_GH_APP_ID": "4242",
            "ORC_GH_APP_PRIVATE_KEY_FILE": str(path),
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_APP_TOKEN": "xapp-1",
        },
        env_file=None,
    )
    assert bot.gh_app  # the App is enough to run the bot: no token required
    with pytest.raises(ConfigError) as raised:
        load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}, env_file=None)
    assert raised.value.problems == [
        "ORC_GH_OAUTH2_TOKEN: required to run the Slack bot (or a GitHub App: ORC_GH_APP_ID with "
        "ORC_GH_APP_PRIVATE_KEY or ORC_GH_APP_PRIVATE_KEY_FILE)"
    ]


# -- secrets -------------------------------------------------------------------------------------
def test_the_private_key_and_tokens_never_reach_logs_or_failures(gh, sqlite_url, caplog):
    settings = app_settings(gh, sqlite_url)
    with caplog.at_level(logging.DEBUG):
        actions.create_xml_repo("8.01r", "Fall_2030", members=["alice"], ctx=live_context(settings))
        old_run_name = OLD
        gh.add_commit(XML, old_run_name, {"course.xml": COURSE_XML}, message="content")
        actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
        wrong = load_settings(
            {**app_env(gh, sqlite_url), "ORC_GH_APP_PRIVATE_KEY": OTHER_PEM.replace("\n", "\\n")}, env_file=None
        )
        with pytest.raises(GitHubAuthError) as raised:
            actions.release_xml("8.01r", "Fall_2030", ctx=live_context(wrong))
    message = user_message(raised.value)
    assert "GitHub refused the App's JSON web token" in message and "ORC_GH_APP_ID" in message
    logged = caplog.text
    assert "new installation token" in logged  # the debug log was captured
    tokens = [t["token"] for t in gh.installation_tokens()]
    assert tokens
    other_lines = [line for line in OTHER_PEM.splitlines() if line and not line.startswith("-----")]
    for text in (logged, message, repr(raised.value)):
        assert not any(line in text for line in KEY_LINES + other_lines)
        assert not any(token in text for token in tokens)
        assert "Bearer ey" not in text  # no JWT either


def test_the_command_line_configured_by_env_alone_acts_as_the_app(gh, sqlite_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_"))}
    env.update(app_env(gh, sqlite_url))
    done = console_script(["create_xml_repo", "-c", "8.01r", "-t", "Fall_2030", "-m", "alice", "bob"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f"/{XML}/{OLD}")
    assert gh.repo(XML, OLD).created_by == BOT
    assert gh.team(XML, OLD.lower()).members == {"alice": "member", "bob": "member"}
    for text in (done.stdout, done.stderr):
        assert not any(line in text for line in KEY_LINES)
