"""Bad input and missing configuration stop before any GitHub request, with one clear message."""

from __future__ import annotations

from dataclasses import replace

import pytest

from orcoursetrion import actions
from orcoursetrion.actions import live_context
from orcoursetrion.errors import ConfigError, GitHubAuthError, ValidationError, user_message
from tests.conftest import settings_for


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda ctx: actions.create_xml_repo("8.01r; rm -rf /", "Fall_2030", ctx=ctx), "course"),
        (lambda ctx: actions.create_xml_repo(".hidden", "Fall_2030", ctx=ctx), "course"),
        (lambda ctx: actions.create_xml_repo("x" * 41, "Fall_2030", ctx=ctx), "course"),
        (lambda ctx: actions.create_xml_repo("8.01r", "Fall2030", ctx=ctx), "term"),
        (lambda ctx: actions.create_xml_repo("8.01r", "2030_Fall", ctx=ctx), "term"),
        (lambda ctx: actions.create_xml_repo("8.01r", "Fall_2030", members=["-alice"], ctx=ctx), "members"),
        (lambda ctx: actions.create_xml_repo("8.01r", "Fall_2030", members=["a" * 40], ctx=ctx), "members"),
        (lambda ctx: actions.create_xml_repo("8.01r", "Fall_2030", members=["al--ice"], ctx=ctx), "members"),
        (lambda ctx: actions.create_export_repo("8.01r", "Fall_2030", "d" * 351, ctx=ctx), "description"),
        (lambda ctx: actions.rerun_studio("8.01r", "Fall_2030", "Fall_2030", ctx=ctx), "new_term"),
        (lambda ctx: actions.put_team("not an org!", "t", False, None, ctx=ctx), "org"),
    ],
)
def test_invalid_input_is_refused_without_calling_github(github, settings, call, field):
    ctx = live_context(settings)
    with pytest.raises(ValidationError) as raised:
        call(ctx)
    assert raised.value.field == field
    assert user_message(raised.value)
    assert github.count() == 0


def test_missing_token_is_a_config_error_before_any_request(github, sqlite_url):
    settings = settings_for(github, sqlite_url, ORC_GH_OAUTH2_TOKEN="")
    with pytest.raises(ConfigError) as raised:
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings))
    assert "ORC_GH_OAUTH2_TOKEN" in str(raised.value)
    assert github.count() == 0


def test_wrong_token_is_reported_as_refused_credentials(github, settings):
    ctx = live_context(replace(settings, gh_token="ghp_wrong"))
    with pytest.raises(GitHubAuthError) as raised:
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=ctx)
    assert "Bad credentials" in str(raised.value)
    assert "GitHub refused our credentials" in user_message(raised.value)


def test_missing_gitreload_url_names_the_key(github, settings):
    ctx = live_context(replace(settings, staging_gitreload=None))
    with pytest.raises(ConfigError) as raised:
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=ctx)
    assert "ORC_STAGING_GITRELOAD" in str(raised.value)
    assert sum(1 for r in github.requests if r.method != "GET") == 0


def test_logins_are_deduplicated_case_insensitively(github, settings):
    actions.create_xml_repo("8.01r", "Fall_2030", members=["alice", "Alice", "bob,carol"], ctx=live_context(settings))
    assert set(github.team("mitx", "content-mit-801r-fall_2030").members) == {"alice", "bob", "carol"}
