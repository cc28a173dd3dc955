"""The Slack manifest matches what the code uses; configuration is typed and never leaks."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from bot.listeners.commands import COMMAND
from orcoursetrion.config import load_settings
from orcoursetrion.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
# Web API methods the bot calls -> the bot scope each needs.
SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_update": "chat:write",
    "chat_postEphemeral": "chat:write",
    "conversations_open": "im:write",
    "users_info": "users:read",
}


def test_manifest_declares_the_command_scopes_events_and_interactivity():
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert COMMAND in commands and commands[COMMAND]["usage_hint"]
    assert len(commands[COMMAND]["usage_hint"]) <= 1000
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    code = "\n".join(p.read_text() for p in (ROOT / "bot").rglob("*.py"))
    for method, scope in SCOPES.items():
        if re.search(rf"\.{method}\(", code):
            assert scope in scopes, (method, scope)
    assert "commands" in scopes and "chat:write.public" in scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert events == set(re.findall(r'app\.event\("([a-z_]+)"\)', code))
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    for url in (
        manifest["settings"]["interactivity"]["request_url"],
        commands[COMMAND]["url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
    ):
        assert url.endswith("/slack/events")


def test_defaults_are_the_original_tools():
    s = load_settings({}, env_file=None)
    assert (s.gh_api_url, s.gh_name, s.course_prefix) == (
        "https://github.mit.edu/api/v3/",
        "Orcoursetrion",
        "content-mit",
    )
    assert (s.studio_org, s.studio_deploy_team, s.xml_org, s.xml_deploy_team) == (
        "MITx-Studio2LMS",
        "mitx-studio-export",
        "mitx",
        "mitx-content-deployment",
    )
    data_home = os.environ["XDG_DATA_HOME"]  # tests/conftest.py: never the real user directory
    assert s.database_url == f"sqlite:///{data_home}/orcoursetrion/orcoursetrion.db" and s.port == 3000
    assert s.terms == ("Spring", "Summer", "Fall") and not s.slack_enabled and s.dry_run_only


def test_every_problem_is_one_line_naming_the_key_never_the_value():
    env = {
        "PORT": "http-secret-1",
        "ORC_STAGING_GITRELOAD": "ftp://user:pw-secret-2@host/",
        "ORC_APPROVERS": "alice,bob",
        "ORC_TERMS": "Spring,Spring",
        "ORC_AUTO_APPROVE": "sometimes",
        "ORC_TIMEZONE": "Mars/Olympus",
        "DATABASE_URL": "mysql://x-secret-3@db/orc",
        "ORC_GH_MAX_CONCURRENT": "150",
        "SLACK_BOT_TOKEN": "xoxb-secret-4",
    }
    with pytest.raises(ConfigError) as raised:
        load_settings(env, env_file=None)
    problems = raised.value.problems
    keys = [p.split(":", 1)[0] for p in problems]
    assert sorted(keys) == sorted(
        [
            "ORC_STAGING_GITRELOAD",
            "ORC_GH_MAX_CONCURRENT",
            "PORT",
            "DATABASE_URL",
            "ORC_APPROVERS",
            "ORC_AUTO_APPROVE",
            "ORC_TERMS",
            "ORC_TIMEZONE",
            "SLACK_SIGNING_SECRET",
            "ORC_GH_OAUTH2_TOKEN",
        ]
    )
    text = str(raised.value)
    for secret in ("http-secret-1", "pw-secret-2", "x-secret-3", "xoxb-secret-4", "alice"):
        assert secret not in text
    assert "SLACK_SIGNING_SECRET: required when Slack is configured for HTTP mode" in problems
    assert any(p.startswith("ORC_GH_OAUTH2_TOKEN: required to run the Slack bot (or a GitHub App") for p in problems)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"ORC_GH_WRITE_BURST": "0"}, "ORC_GH_WRITE_BURST: "),
        ({"ORC_GH_WRITE_BURST": "two"}, "ORC_GH_WRITE_BURST: "),
        ({"ORC_GH_WRITE_BURST": "81"}, "ORC_GH_WRITE_BURST: must be at most ORC_GH_WRITES_PER_MINUTE"),
        ({"ORC_GH_WRITE_BURST": "5", "ORC_GH_WRITES_PER_MINUTE": "4"}, "ORC_GH_WRITE_BURST: must be at most"),
    ],
)
def test_the_write_burst_is_a_positive_whole_number_within_the_minute_limit(env, problem):
    assert load_settings({}, env_file=None).gh_write_burst == 1  # writes spaced 60/limit apart
    assert load_settings({"ORC_GH_WRITE_BURST": "3"}, env_file=None).gh_write_burst == 3
    with pytest.raises(ConfigError) as raised:
        load_settings(env, env_file=None)
    assert len(raised.value.problems) == 1 and raised.value.problems[0].startswith(problem)


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("ORC_XML_ORG=from-file\nORC_COURSE_PREFIX=file-prefix\n")
    s = load_settings({"ORC_XML_ORG": "from-env"}, env_file=dotenv)
    assert s.xml_org == "from-env" and s.course_prefix == "file-prefix"


def test_database_urls_pick_the_installed_driver():
    assert load_settings({"DATABASE_URL": "postgres://u@h/db"}, env_file=None).database_url == (
        "postgresql+psycopg://u@h/db"
    )
    assert load_settings({"DATABASE_URL": "postgresql://u@h/db"}, env_file=None).database_url == (
        "postgresql+psycopg://u@h/db"
    )


def test_socket_mode_needs_the_bot_token():
    with pytest.raises(ConfigError) as raised:
        load_settings({"SLACK_APP_TOKEN": "xapp-1"}, env_file=None)
    assert raised.value.problems == ["SLACK_BOT_TOKEN: required when SLACK_APP_TOKEN is set (Socket Mode)"]
    s = load_settings(
        {"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1", "ORC_GH_OAUTH2_TOKEN": "t"}, env_file=None
    )
    assert s.socket_mode and s.slack_enabled


def test_settings_repr_hides_secrets():
    s = load_settings({"ORC_GH_OAUTH2_TOKEN": "ghp_hidden_value"}, env_file=None)
    assert "ghp_hidden_value" not in repr(s) and "ghp_hidden_value" not in str(s)


def test_app_refuses_to_start_on_bad_configuration(monkeypatch, capsys):
    import app

    monkeypatch.setenv("PORT", "not-a-port")
    monkeypatch.chdir(ROOT / "tests")
    assert app.main([]) == 2
    assert "orcoursetrion: configuration: PORT: must be a whole number" in capsys.readouterr().err
