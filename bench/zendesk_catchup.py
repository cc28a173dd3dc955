"""How long ticket work takes to catch up once Zendesk answers again, with the production
backoff (1 s doubling to 30 s): Zendesk is down (503) for each outage length while one
request's ticket operations wait in the outbox; prints the time from recovery until the
outbox is empty, and how many probes the outage cost."""

from __future__ import annotations

import sys
import tempfile
import time

import _setup  # noqa: F401

from orcoursetrion.store import open_store
from orcoursetrion.store.outbox import Outbox
from orcoursetrion.zendesk import ZendeskSync
from tests.conftest import settings_for
from tests.fakes.zendesk import FakeZendesk

OUTAGES = (5.0, 20.0, 70.0)


def measure(outage: float) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp, FakeZendesk() as zd:
        url = f"sqlite:///{tmp}/bench.db"
        settings = settings_for(
            None, url, ZENDESK_SUBDOMAIN=zd.subdomain, ZENDESK_EMAIL=zd.email, ZENDESK_API_TOKEN=zd.token,
            ZENDESK_URL=zd.url,
        )  # fmt: skip
        store = open_store(url, auto_upgrade=True)
        outbox = Outbox(store)
        req = store.create_request("release", "U1", {"course": "8.01r", "term": "Fall_2030"}, "Move to production")
        outbox.add(req.id, "open")
        for step in range(4):
            outbox.add(req.id, "comment", {"body": f"update {step}", "public": False})
        zd.down = True
        sync = ZendeskSync(settings, store).start()  # production defaults
        time.sleep(outage)
        probes = zd.count()
        zd.down = False
        recovered = time.monotonic()
        assert sync.drain(timeout=120)
        catch_up = time.monotonic() - recovered
        sync.stop()
        store.close()
        return catch_up, probes


def main() -> None:
    outages = [float(a) for a in sys.argv[1:]] or OUTAGES
    print("Zendesk down (503) for N seconds, then up: time until the outbox is empty (production backoff)")
    print(f"{'outage s':>9} {'catch-up s':>11} {'requests during outage':>23}")
    for outage in outages:
        catch_up, probes = measure(outage)
        print(f"{outage:>9.0f} {catch_up:>11.1f} {probes:>23}")


if __name__ == "__main__":
    main()
