"""GitHub App authentication on the fake GitHub: real PyGithub (GithubIntegration, AppAuth,
AppInstallationAuth), real PyJWT-signed tokens and the real git CLI over HTTP."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, BadCredentialsException, Github, GithubException, GithubIntegration

from tests.fakes.github import FakeGitHub
from tests.fakes.test_fake_github import ORG, client, cred_env, git

APP_ID = 4242


def _keypair() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


PRIVATE_PEM, PUBLIC_PEM = _keypair()
OTHER_PRIVATE_PEM, _ = _keypair()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def gh(clock):
    fake = FakeGitHub(clock=clock)
    fake.add_org(ORG)
    fake.add_org("elsewhere")
    fake.add_user("alice", orgs=(ORG,))
    fake.add_app(APP_ID, PUBLIC_PEM, slug="orc-app")
    fake.install_app(APP_ID, ORG)
    with fake:
        yield fake
    assert fake.server_errors == []


def integration(gh: FakeGitHub, app_id: int | str = APP_ID) -> GithubIntegration:
    return GithubIntegration(auth=Auth.AppAuth(app_id, PRIVATE_PEM), base_url=gh.api_url, retry=None)


def installation_client(gh: FakeGitHub, installation_id: int, **kw) -> Github:
    auth = Auth.AppAuth(APP_ID, PRIVATE_PEM).get_installation_auth(installation_id, **kw)
    return Github(
        auth=auth, base_url=gh.api_url, retry=None, seconds_between_requests=None, seconds_between_writes=None
    )


def make_jwt(
    iss=APP_ID, iat: float | None = None, exp: float | None = None, key: str = PRIVATE_PEM, alg: str = "RS256", **claims
) -> str:
    now = int(time.time())
    payload = {"iat": now - 60 if iat is None else iat, "exp": now + 300 if exp is None else exp, "iss": iss, **claims}
    # signed as raw JWS so that claims PyJWT would refuse to encode (an integer iss) can be sent
    return jwt.api_jws.PyJWS().encode(json.dumps(payload).encode(), key, algorithm=alg, headers={"typ": "JWT"})


def call(gh: FakeGitHub, method: str, path: str, auth: str | None, **kw) -> requests.Response:
    headers = kw.pop("headers", {})
    if auth:
        headers["Authorization"] = auth
    return requests.request(method, f"{gh.api_url}{path}", headers=headers, timeout=10, **kw)


def installation_id_of(gh: FakeGitHub) -> int:
    return integration(gh).get_org_installation(ORG).id


# -- the app (JWT) -----------------------------------------------------------------------------
def test_app_and_its_installations_with_pygithub(gh):
    gi = integration(gh)
    app = gi.get_app()
    assert (app.id, app.slug) == (APP_ID, "orc-app")
    inst = gi.get_org_installation(ORG)
    assert inst.app_id == APP_ID and inst.target_type == "Organization"
    assert inst.permissions["contents"] == "write" and inst.permissions["members"] == "write"
    assert [i.id for i in gi.get_installations()] == [inst.id]
    assert gi.get_app_installation(inst.id).id == inst.id
    with pytest.raises(GithubException) as exc:
        gi.get_org_installation("elsewhere")
    assert exc.value.status == 404
    assert all(r.auth_scheme == "Bearer" for r in gh.requests)

    tok = gi.get_access_token(inst.id)
    assert tok.token.startswith("ghs_") and len(tok.token) == 40
    assert tok.permissions == {
        "administration": "write",
        "contents": "write",
        "members": "write",
        "metadata": "read",
        "repository_hooks": "write",
    }
    assert tok.repository_selection == "all"
    lifetime = tok.expires_at - datetime.now(UTC)
    assert timedelta(minutes=59) < lifetime <= timedelta(hours=1)
    assert gh.installation_tokens_issued == 1
    assert gh.requests[-1].status == 201
    gi.close()


def test_jwt_claims_checked_like_github(gh):
    def status_message(token: str, path: str = "/app") -> tuple[int, str]:
        resp = call(gh, "GET", path, f"Bearer {token}")
        return resp.status_code, resp.json().get("message", "")

    now = int(time.time())
    assert status_message(make_jwt())[0] == 200
    assert status_message(make_jwt(iss=str(APP_ID)))[0] == 200  # iss as a string, as PyGithub sends it
    client_id = call(gh, "GET", "/app", f"Bearer {make_jwt()}").json()["client_id"]
    assert status_message(make_jwt(iss=client_id))[0] == 200  # or the app's client ID
    assert status_message(make_jwt(iat=now + 30, exp=now + 300))[0] == 200  # within 60 s of drift
    assert status_message(make_jwt(iat=now + 120, exp=now + 400)) == (
        401,
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
    )
    assert status_message(make_jwt(iat=now - 60, exp=now + 660)) == (
        401,
        "'Expiration time' claim ('exp') is too far in the future",
    )
    assert status_message(make_jwt(iat=now - 700, exp=now - 100)) == (
        401,
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the "
        "assertion expires",
    )
    assert status_message(make_jwt(iat="yesterday"))[0] == 401
    assert status_message(make_jwt(key=OTHER_PRIVATE_PEM)) == (401, "A JSON web token could not be decoded")
    assert status_message(make_jwt(key="a shared secret, not the app key!", alg="HS256")) == (
        401,
        "A JSON web token could not be decoded",
    )
    assert status_message("not.a.jwt") == (401, "A JSON web token could not be decoded")
    assert status_message(make_jwt(iss=999)) == (404, "Integration not found")

    # app routes take a JWT only; a JWT is no token for the rest of the API
    assert call(gh, "GET", "/app", f"token {gh.token}").json()["message"] == "A JSON web token could not be decoded"
    resp = call(gh, "GET", "/orgs/mitx/installation", f"token {gh.token}")
    assert resp.status_code == 401
    resp = call(gh, "GET", "/orgs/mitx", f"Bearer {make_jwt()}")
    assert resp.status_code == 403 and resp.json()["message"] == "Resource not accessible by integration"
    assert status_message(make_jwt(iat=now - 700, exp=now - 100), "/orgs/mitx")[0] == 401
    assert gh.installation_tokens_issued == 0


def test_token_narrowing_and_refusals(gh):
    gi = integration(gh)
    inst_id = gi.get_org_installation(ORG).id
    narrow = gi.get_access_token(inst_id, permissions={"contents": "read"})
    assert narrow.permissions == {"contents": "read", "metadata": "read"}
    with pytest.raises(GithubException) as exc:
        gi.get_access_token(inst_id, permissions={"organization_secrets": "write"})
    assert exc.value.status == 422
    assert exc.value.data["message"] == "The permissions requested are not granted to this installation."
    with pytest.raises(GithubException) as exc:
        gi.get_access_token(inst_id + 1)
    assert exc.value.status == 404

    gh.add_repo(ORG, "course", files={"course.xml": b"<course/>"})
    gh.add_repo("elsewhere", "theirs", files={"a": b"a"})
    ro = client(gh, token=narrow.token)
    assert ro.get_repo("mitx/course").get_contents("course.xml").decoded_content == b"<course/>"
    with pytest.raises(GithubException) as exc:
        ro.get_repo("mitx/course").create_file("x.txt", "x", "x")
    assert exc.value.status == 403 and exc.value.data["message"] == "Resource not accessible by integration"
    with pytest.raises(GithubException) as exc:
        ro.get_organization(ORG).create_repo("nope")
    assert exc.value.status == 403
    with pytest.raises(GithubException) as exc:
        ro.get_repo("elsewhere/theirs")  # not installed there
    assert exc.value.status == 404
    ro.close()
    gi.close()


# -- installation tokens -----------------------------------------------------------------------
def test_installation_token_acts_as_the_apps_bot(gh, tmp_path):
    g = installation_client(gh, installation_id_of(gh))
    with pytest.raises(GithubException) as exc:
        _ = g.get_user().login
    assert exc.value.status == 403 and exc.value.data["message"] == "Resource not accessible by integration"

    org = g.get_organization(ORG)
    repo = org.create_repo("content-mit-801r-Fall_2030", private=True)
    assert gh.repo(ORG, repo.name).created_by == "orc-app[bot]"
    made = repo.create_file("README.md", "add readme", "hi")
    bot = g.get_user("orc-app[bot]")
    assert bot.type == "Bot"
    assert made["commit"].committer.name == "orc-app[bot]"
    assert made["commit"].committer.email == f"{bot.id}+orc-app[bot]@users.noreply.github.com"

    team = org.create_team("Staff", privacy="closed")
    assert gh.team(ORG, "staff").members == {}  # an app is no user: it does not become a maintainer
    org.get_team_by_slug("staff")
    raw_put = requests.put(
        f"{gh.api_url}/orgs/mitx/teams/staff/memberships/alice",
        json={"role": "maintainer"},
        headers={"Authorization": f"token {g.requester.auth.token}"},
        timeout=10,
    )
    assert raw_put.status_code == 200 and gh.team(ORG, "staff").members == {"alice": "maintainer"}
    assert team.id == gh.team(ORG, "staff").id
    listing = requests.get(
        f"{gh.api_url}/installation/repositories",
        headers={"Authorization": f"token {g.requester.auth.token}"},
        timeout=10,
    ).json()
    assert listing["total_count"] == 1 and listing["repositories"][0]["name"] == repo.name
    assert (
        requests.get(
            f"{gh.api_url}/installation/repositories", headers={"Authorization": f"token {gh.token}"}, timeout=10
        )
        .json()["message"]
        .startswith("You must authenticate with an installation access token")
    )

    # git smart HTTP takes the token as the x-access-token password
    token = g.requester.auth.token
    git("clone", "-q", repo.clone_url, str(tmp_path / "w"), env=cred_env(token))
    assert (tmp_path / "w" / "README.md").read_text() == "hi"
    (tmp_path / "w" / "course.xml").write_text("<course/>")
    git("add", ".", cwd=str(tmp_path / "w"))
    git("commit", "-q", "-m", "course", cwd=str(tmp_path / "w"))
    git("push", "-q", "origin", "HEAD", cwd=str(tmp_path / "w"), env=cred_env(token))
    assert gh.files(ORG, repo.name)["course.xml"] == b"<course/>"
    assert gh.installation_tokens_issued == 1  # PyGithub reused its token throughout
    g.close()


def test_installation_tokens_expire_on_the_fakes_clock(gh, clock, tmp_path):
    gh.add_repo(ORG, "course", files={"course.xml": b"<course/>"})
    gi = integration(gh)
    inst_id = gi.get_org_installation(ORG).id
    token = gi.get_access_token(inst_id).token
    url = f"{gh.git_base}/mitx/course.git"
    assert call(gh, "GET", "/repos/mitx/course", f"token {token}").status_code == 200
    clock.now += 3599
    assert call(gh, "GET", "/repos/mitx/course", f"token {token}").status_code == 200
    clock.now += 1
    expired = call(gh, "GET", "/repos/mitx/course", f"token {token}")
    assert expired.status_code == 401 and expired.json()["message"] == "Bad credentials"
    denied = git("clone", "-q", url, str(tmp_path / "late"), env=cred_env(token), check=False)
    assert denied.returncode != 0

    gh.installation_token_ttl = 60
    short = gi.get_access_token(inst_id)
    assert short.expires_at - datetime.now(UTC) <= timedelta(seconds=60)
    git("clone", "-q", url, str(tmp_path / "w"), env=cred_env(short.token))
    assert gh.expire_installation_tokens() == 1
    assert call(gh, "GET", "/repos/mitx/course", f"token {short.token}").status_code == 401
    assert git("clone", "-q", url, str(tmp_path / "w2"), env=cred_env(short.token), check=False).returncode != 0
    assert gh.installation_tokens_issued == 2
    assert [t["expired"] for t in gh.installation_tokens()] == [True, True]

    # PyGithub's AppInstallationAuth keeps its token until its own clock says it expires: an
    # expiry it cannot see (a revoked or early-expired token) is a 401 it has to handle
    g = installation_client(gh, inst_id)
    assert g.get_repo("mitx/course").name == "course"
    gh.expire_installation_tokens()
    with pytest.raises(BadCredentialsException):
        g.get_repo("mitx/course")
    g.close()
    gi.close()


def test_pygithub_mints_a_new_token_when_its_own_expires(gh):
    gh.add_repo(ORG, "course")
    gh.installation_token_ttl = 10  # inside PyGithub's 20 s refresh margin: every use mints anew
    g = installation_client(gh, installation_id_of(gh))
    for _ in range(3):
        assert g.get_repo("mitx/course").name == "course"
    assert gh.installation_tokens_issued == 3
    assert gh.count("POST", "/access_tokens") == 3
    g.close()
