"""Shared fixtures: a fake GitHub seeded like MIT's, settings pointing at it, stores on
SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest
from sqlalchemy import create_engine, text

from orcoursetrion.config import Settings, load_settings
from orcoursetrion.github import API_VERSION
from tests.fakes.github import FakeGitHub

# The default store lives in the user data directory: no test may touch the real one.
TEST_HOME = tempfile.mkdtemp(prefix="orc-test-home-")
os.environ["HOME"] = TEST_HOME
os.environ["XDG_DATA_HOME"] = os.path.join(TEST_HOME, ".local", "share")

STAGING = "https://stage-user:stage-secret-pw@gitreload-staging.example.edu/"
PRODUCTION = "https://prod-user:prod-secret-pw@gitreload-prod.example.edu/"
TOKEN = "ghp_orcTestToken0123456789"
SECRETS = (TOKEN, "stage-secret-pw", "prod-secret-pw")
USERS = ("alice", "bob", "carol", "dave")


def seed(gh: FakeGitHub) -> FakeGitHub:
    for org in ("mitx", "MITx-Studio2LMS"):
        gh.add_org(org)
    for user in USERS:
        gh.add_user(user)
    gh.add_team("mitx", "mitx-content-deployment", permission="pull")
    gh.add_team("MITx-Studio2LMS", "mitx-studio-export", permission="pull")
    return gh


@pytest.fixture
def github():
    with FakeGitHub(token=TOKEN) as gh:
        yield seed(gh)
        assert not gh.server_errors, gh.server_errors
        assert_documented_api(gh)


def assert_documented_api(gh: FakeGitHub) -> None:
    """Every REST call the product made used a documented route and pinned the API version."""
    assert gh.undocumented_calls == [], gh.undocumented_calls
    api = [r for r in gh.requests if r.path.startswith(gh.api_prefix + "/")]
    unpinned = [f"{r.method} {r.path}" for r in api if r.api_version != API_VERSION]
    assert unpinned == [], unpinned[:5]


def make_env(github: FakeGitHub | None, database_url: str, **extra: str) -> dict[str, str]:
    env = {
        "ORC_GH_OAUTH2_TOKEN": TOKEN,
        "ORC_GH_API_URL": (github.api_url if github else "http://127.0.0.1:9/api/v3") + "/",
        "ORC_GH_EMAIL": "orcoursetrion@mit.edu",
        "ORC_STAGING_GITRELOAD": STAGING,
        "ORC_PRODUCTION_GITRELOAD": PRODUCTION,
        "ORC_GH_WRITES_PER_MINUTE": "100000",
        "ORC_GH_WRITES_PER_HOUR": "1000000",
        "ORC_GH_MAX_RETRIES": "2",
        "ORC_LEASE_SECONDS": "3",
        "DATABASE_URL": database_url,
    }
    env.update(extra)
    return env


def settings_for(github: FakeGitHub | None, database_url: str, **extra: str) -> Settings:
    return load_settings(make_env(github, database_url, **extra), env_file=None)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'orc.db'}"


@pytest.fixture
def settings(github, sqlite_url) -> Settings:
    return settings_for(github, sqlite_url)


def postgres_schema_url(base: str) -> tuple[str, callable]:
    """A fresh schema on the test PostgreSQL database, and a function that drops it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return url, drop


DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    """Each store test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    url, drop = postgres_schema_url(os.environ["TEST_DATABASE_URL"])
    try:
        yield url
    finally:
        drop()


@pytest.fixture
def postgres_url():
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL is not set (PostgreSQL tests run in CI when it answers)")
    url, drop = postgres_schema_url(base)
    try:
        yield url
    finally:
        drop()
