"""0.2.1's public names, module paths and shapes, in-process: signatures, the exception
classes, `config`'s attributes read at call time, `lib.GitHub` on the product's client."""

from __future__ import annotations

import argparse
import importlib.metadata
import inspect
import os
import re

import pytest

import orcoursetrion
from orcoursetrion import actions, cmd, config, errors, lib
from orcoursetrion.actions import github as github_actions
from orcoursetrion.actions import live_context
from orcoursetrion.github import GitHub as ProductClient
from orcoursetrion.lib import github as lib_github
from tests.conftest import STAGING, TOKEN, make_env

SEVEN = [
    "create_export_repo",
    "rerun_studio",
    "release_studio",
    "create_xml_repo",
    "rerun_xml",
    "release_xml",
    "put_team",
]
# 0.2.1's parameters, in order, with their defaults.
SIGNATURES = {
    "create_export_repo": "(course, term, description=None)",
    "rerun_studio": "(course, term, new_term, description=None)",
    "release_studio": "(course, term)",
    "create_xml_repo": "(course, term, team=None, members=None, description=None)",
    "rerun_xml": "(course, term)",
    "release_xml": "(course, term)",
    "put_team": "(org, team, read_only, members)",
}
LIB_SIGNATURES = {
    "__init__": "(self, api_url, oauth2_token)",
    "create_repo": "(self, org, repo, description)",
    "add_team_repo": "(self, org, repo, team)",
    "put_team": "(self, org, team_name, read_only, members)",
    "add_web_hook": "(self, org, repo, url)",
    "delete_web_hooks": "(self, org, repo)",
    "add_repo_file": "(self, org, repo, committer, message, path, contents)",
    "shallow_copy_repo": "(src_repo, dst_repo, committer, branch=None)",
}
DEFAULTS_021 = {
    "ORC_GH_OAUTH2_TOKEN": None,
    "ORC_GH_API_URL": "https://github.mit.edu/api/v3/",
    "ORC_GH_NAME": "Orcoursetrion",
    "ORC_GH_EMAIL": "orcoursetrion@example.com",
    "ORC_COURSE_PREFIX": "content-mit",
    "ORC_STUDIO_ORG": "MITx-Studio2LMS",
    "ORC_STUDIO_DEPLOY_TEAM": "mitx-studio-export",
    "ORC_XML_ORG": "mitx",
    "ORC_XML_DEPLOY_TEAM": "mitx-content-deployment",
    "ORC_STAGING_GITRELOAD": None,
    "ORC_PRODUCTION_GITRELOAD": None,
}


def positional(fn) -> str:
    """A signature without the product's extra keyword-only parameters (ctx=...)."""
    sig = inspect.signature(fn)
    params = [
        p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values() if p.kind != p.KEYWORD_ONLY
    ]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


@pytest.fixture
def clean_config(github, sqlite_url):
    """The environment of a 0.2.1 user (only the GitHub pacing knobs of the tests), and the
    config attributes re-read from it; both restored afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith(("ORC_", "SLACK_", "ZENDESK_", "EDX_")):
                mp.delenv(key)
        for key, value in make_env(github, sqlite_url).items():
            if key.startswith(("ORC_GH_WRITES", "ORC_GH_MAX")) or key == "DATABASE_URL":
                mp.setenv(key, value)
        config.configure()
        yield mp
    config.configure()


def test_names_paths_and_shapes():
    assert orcoursetrion.VERSION == importlib.metadata.version("orcoursetrion")
    assert re.fullmatch(r"\d+\.\d+\.\d+", orcoursetrion.VERSION)  # SemVer, and PEP 440 spells it the same
    assert sorted(github_actions.__all__) == sorted(SEVEN)
    for name in SEVEN:
        assert getattr(actions, name) is getattr(github_actions, name)
        assert positional(getattr(github_actions, name)) == SIGNATURES[name], name
    assert github_actions.GITIGNORE_PATH == ".gitignore"
    assert github_actions.GITIGNORE_MESSAGE == "Automatic .gitignore from Orcoursetrion"
    assert set(github_actions.COMMITTER) == {"name", "email"}
    assert lib.GitHub is lib_github.GitHub
    for name, expected in LIB_SIGNATURES.items():
        assert positional(getattr(lib.GitHub, name)) == expected, name
    assert isinstance(inspect.getattr_static(lib.GitHub, "shallow_copy_repo"), staticmethod)
    names = ["GitHubException", "GitHubRepoExists", "GitHubRepoDoesNotExist", "GitHubUnknownError", "GitHubNoTeamFound"]
    assert sorted(lib.__all__) == sorted(["GitHub", *names])
    for name in names:
        assert getattr(lib, name) is getattr(errors, name) is getattr(lib_github, name)
        assert issubclass(getattr(lib, name), lib.GitHubException)
    assert callable(cmd.execute) and cmd.actions is actions
    assert all(callable(getattr(cmd, f"run_{name}")) for name in SEVEN)


def test_config_attributes_have_021_defaults_and_configure_rereads(clean_config):
    assert config.CONFIG_KEYS == DEFAULTS_021
    for key, default in DEFAULTS_021.items():
        assert getattr(config, key) == default, key
    clean_config.setenv("ORC_XML_ORG", "mitx-test")
    assert config.ORC_XML_ORG == "mitx"  # read at import (or configure), not on every access
    config.configure()
    assert config.ORC_XML_ORG == "mitx-test"


def test_actions_read_assigned_attributes_at_call_time(github, clean_config):
    """0.2.1's way of configuring a script: assign the attributes, then call."""
    with pytest.raises(errors.ConfigError, match="ORC_GH_OAUTH2_TOKEN"):
        actions.create_xml_repo("8.01r", "Fall_2030")
    clean_config.setattr(config, "ORC_GH_OAUTH2_TOKEN", TOKEN)
    clean_config.setattr(config, "ORC_GH_API_URL", github.api_url + "/")
    clean_config.setattr(config, "ORC_STAGING_GITRELOAD", STAGING)
    clean_config.setattr(config, "ORC_COURSE_PREFIX", "content-test")
    clean_config.setattr(config, "ORC_GH_NAME", "Course Robot")
    repo = actions.create_export_repo("8.01r", "Fall_2030")
    assert repo["full_name"] == "MITx-Studio2LMS/content-test-801r-Fall_2030"
    assert {c["author_name"] for c in github.commits("MITx-Studio2LMS", "content-test-801r-Fall_2030")} == {
        "Course Robot"
    }
    clean_config.setattr(config, "ORC_GH_API_URL", "not a url")  # checked like the environment key
    with pytest.raises(errors.ConfigError, match="ORC_GH_API_URL"):
        actions.release_studio("8.01r", "Fall_2030")


def test_catching_the_lib_exception_catches_what_actions_raise(github, settings):
    github.add_repo("mitx", "content-mit-801r-Fall_2030", files={"a": b"b"})
    with pytest.raises(lib.GitHubRepoExists):
        actions.create_xml_repo("8.01r", "Fall_2030", ctx=live_context(settings))
    with pytest.raises(lib.GitHubException):
        actions.rerun_xml("8.01r", "Spring_2031", ctx=live_context(settings))


def test_rerun_results_are_github_repo_json(github, settings):
    old = "content-mit-801r-Fall_2030"
    github.add_repo("mitx", old, files={"course.xml": b'<course url_name="Fall_2030"/>'}, default_branch="master")
    repo = actions.rerun_xml_course("8.01r", "Fall_2030", "Spring_2031", ctx=live_context(settings))
    made = github.repo("mitx", "content-mit-801r-Spring_2031")
    assert repo["id"] == made.id and repo["default_branch"] == "master" == made.default_branch
    assert {"node_id", "owner", "permissions", "clone_url", "pushed_at"} <= set(repo) and len(repo) > 70


def test_lib_github_runs_on_the_product_client(github, settings, clean_config):
    client = lib.GitHub(github.api_url, TOKEN)
    assert client.api_url == github.api_url + "/"
    assert isinstance(client.client, ProductClient)  # slug routes, pacing, retries, redaction
    github.fail("GET", r"/repos/mitx/fresh$", 502, times=1)  # a transient answer is retried
    repo = client.create_repo("mitx", "fresh", "d")
    assert repo["id"] == github.repo("mitx", "fresh").id
    with pytest.raises(lib.GitHubRepoExists):
        client.create_repo("mitx", "fresh", "d")
    team = client.put_team("mitx", "Fresh Team", True, ["alice", "bob"])
    assert team["permission"] == "pull" and set(github.team("mitx", "fresh-team").members) == {"alice", "bob"}
    again = client.put_team("mitx", "Fresh Team", False, ["bob"])  # exact members; permission kept
    assert again["id"] == team["id"] and again["permission"] == "pull"
    assert set(github.team("mitx", "fresh-team").members) == {"bob"}
    client.add_team_repo("mitx", "fresh", "Fresh Team")
    assert github.team("mitx", "fresh-team").repos["mitx/fresh"] == "push"  # explicit, not the legacy default
    client.add_web_hook("mitx", "fresh", STAGING)
    with pytest.raises(lib.GitHubUnknownError) as dup:
        client.add_web_hook("mitx", "fresh", STAGING)  # GitHub refuses a second hook with the same URL
    assert "stage-secret-pw" not in str(dup.value)
    client.add_repo_file("mitx", "fresh", {"name": "N", "email": "n@example.com"}, "m", "docs/a.txt", b"bytes\n")
    assert github.files("mitx", "fresh") == {"docs/a.txt": b"bytes\n"}
    assert client.delete_web_hooks("mitx", "fresh") == 1 and client.delete_web_hooks("mitx", "fresh") == 0
    with pytest.raises(lib.GitHubRepoDoesNotExist):
        client.add_repo_file("mitx", "nope", {"name": "N", "email": "n@example.com"}, "m", "a", "b")
    assert not [r for r in github.requests if r.method == "GET" and r.path.endswith("/orgs/mitx/teams")]


def test_shallow_copy_repo_of_a_named_branch_replaces_the_destination(github, settings, clean_config):
    clean_config.setattr(config, "ORC_GH_OAUTH2_TOKEN", TOKEN)
    clean_config.setattr(config, "ORC_GH_API_URL", github.api_url + "/")
    src = github.add_repo("mitx", "src", files={"a.txt": b"one\n"}, default_branch="main")
    github.add_commit("mitx", "src", {"b.txt": b"two\n"}, message="second")
    dst = github.add_repo("mitx", "dst", files={"old.txt": b"old\n"}, default_branch="main")
    lib.GitHub.shallow_copy_repo(src.clone_url, dst.clone_url, {"name": "Copier", "email": "c@example.com"}, "main")
    assert github.files("mitx", "dst") == {"a.txt": b"one\n", "b.txt": b"two\n"}
    (commit,) = github.commits("mitx", "dst")
    assert commit["author_name"] == "Copier" and commit["message"].endswith(f"from {src.clone_url}")
    with pytest.raises(lib.GitHubUnknownError, match="HTTPS"):
        lib.GitHub.shallow_copy_repo("git@example.com:a/b.git", dst.clone_url, {"name": "C", "email": "c@x.org"})


def test_cmd_run_functions_take_021_namespaces(github, clean_config, capsys):
    clean_config.setattr(config, "ORC_GH_OAUTH2_TOKEN", TOKEN)
    clean_config.setattr(config, "ORC_GH_API_URL", github.api_url + "/")
    clean_config.setattr(config, "ORC_STAGING_GITRELOAD", STAGING)
    args = argparse.Namespace(course="8.01r", term="Fall_2030", team=None, member=["alice"], description="Physics")
    assert cmd.run_create_xml_repo(args) == 0
    assert capsys.readouterr().out.startswith("Newly created repository for XML course created at http")
    assert set(github.team("mitx", "content-mit-801r-fall_2030").members) == {"alice"}
    clean_config.setattr("sys.argv", ["orcoursetrion", "rerun_xml", "-c", "8.01r", "-t", "Fall_2030"])
    assert cmd.execute() == 0
    assert "Successfully removed 1 hooks" in capsys.readouterr().out
