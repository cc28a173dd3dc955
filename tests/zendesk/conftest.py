"""A fake Zendesk (driven by the real zenpy) beside the fake GitHub, and a workflow with the
ticket listener and its outbox worker; every test checks that no secret reached Zendesk."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orcoursetrion.config import Settings
from orcoursetrion.store import Store, open_store
from orcoursetrion.workflow import Workflow
from orcoursetrion.zendesk import ZendeskSync, attach
from tests.conftest import SECRETS, settings_for
from tests.fakes.github import FakeGitHub
from tests.fakes.zendesk import FakeZendesk

WEBHOOK_SECRET = "zd-webhook-signing-secret"
COURSE_XML = b'<course url_name="Fall_2030" org="MITx" course="8.01r"/>'
OLD_REPO = "content-mit-801r-Fall_2030"


def zendesk_env(zd: FakeZendesk) -> dict[str, str]:
    """The product's Zendesk keys, pointed at the fake through ZENDESK_URL."""
    return {
        "ZENDESK_SUBDOMAIN": zd.subdomain,
        "ZENDESK_EMAIL": zd.email,
        "ZENDESK_API_TOKEN": zd.token,
        "ZENDESK_URL": zd.url,
        "ZENDESK_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


@pytest.fixture
def zd() -> Iterator[FakeZendesk]:
    with FakeZendesk() as fake:
        yield fake
        assert fake.server_errors == [], fake.server_errors
        fake.assert_never_sent(*SECRETS, WEBHOOK_SECRET, fake.token)


def seed_xml_run(github: FakeGitHub, name: str = OLD_REPO, members: tuple[str, ...] = ("alice", "bob")) -> None:
    github.add_repo("mitx", name, files={"course.xml": COURSE_XML, "course/Fall_2030.xml": b"<course/>"})
    github.add_team("mitx", name, permission="pull", members=list(members))
    github.grant("mitx", name.lower(), "mitx", name, "push")


class World:
    """A workflow with Zendesk attached; `sync` is its listener and outbox worker."""

    def __init__(self, settings: Settings, store: Store, workflow: Workflow, sync: ZendeskSync) -> None:
        self.settings, self.store, self.workflow, self.sync = settings, store, workflow, sync

    def request(self, type_: str, params: dict, user: str = "UALICE", email: str | None = "alice@mit.edu"):
        """Plan it as the bot does, record it and confirm it; returns the request id."""
        from commands.base import Draft, Services
        from commands.planning import propose

        proposal = propose(Draft(type_, params), Services(self.settings, self.store, self.workflow))
        assert proposal.can_run, proposal.problems
        req = self.workflow.create(
            proposal.type,
            user,
            proposal.params,
            plan=proposal.changes,
            channel="CTEST",
            requester_name="Alice Instructor",
            requester_email=email,
        )
        self.workflow.confirm(req.id, user)
        return req.id


@pytest.fixture
def make_world(github, tmp_path) -> Iterator:
    """Build workflows on one store (a restart is a second one) with Zendesk at `zd`."""
    made: list[tuple[Workflow, ZendeskSync | None]] = []
    stores: list[Store] = []

    def make(
        zd: FakeZendesk, database_url: str | None = None, start: bool = True, env: dict | None = None, **options
    ) -> World:
        url = database_url or f"sqlite:///{tmp_path / 'orc.db'}"
        settings = settings_for(github, url, **zendesk_env(zd), **(env or {}))
        store = open_store(url, auto_upgrade=True)
        stores.append(store)
        workflow = Workflow(settings, store)
        options.setdefault("timeout", 2.0)
        options.setdefault("poll", 0.2)
        options.setdefault("backoff", (0.1, 0.5))
        sync = attach(workflow, settings, start=start, **options)
        made.append((workflow, sync))
        return World(settings, store, workflow, sync)

    yield make
    for workflow, sync in made:
        workflow.wait_idle(timeout=10)
        workflow.shutdown(grace=5)
        if sync is not None:
            sync.stop()
    for store in stores:
        store.close()
