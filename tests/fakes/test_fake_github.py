"""Self-tests of the fake GitHub: the real PyGithub client and the real git CLI against it."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
import time

import pytest
import requests
from github import Auth, Github, GithubException, InputGitAuthor

from tests.fakes.github import Executable, FakeGitHub, Symlink, team_slug

ORG = "mitx"


def client(gh: FakeGitHub, token: str | None = None, **kw) -> Github:
    return Github(
        base_url=gh.api_url,
        auth=Auth.Token(token or gh.token),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
        **kw,
    )


@pytest.fixture
def gh():
    fake = FakeGitHub()
    fake.add_org(ORG)
    fake.add_user("alice")
    fake.add_user("bob")
    with fake:
        yield fake
    assert fake.server_errors == []


@pytest.fixture
def g(gh):
    client_ = client(gh)
    yield client_
    client_.close()


def raw(gh: FakeGitHub, method: str, path: str, token: str | None = "default", **kw) -> requests.Response:
    headers = kw.pop("headers", {})
    if token == "default":
        token = gh.token
    if token:
        headers["Authorization"] = f"token {token}"
    return requests.request(method, f"{gh.api_url}{path}", headers=headers, timeout=10, **kw)


def git(*args: str, cwd: str | None = None, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    base.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_AUTHOR_NAME="Pusher",
        GIT_AUTHOR_EMAIL="pusher@example.com",
        GIT_COMMITTER_NAME="Pusher",
        GIT_COMMITTER_EMAIL="pusher@example.com",
    )
    base.update(env or {})
    proc = subprocess.run(["git", *args], cwd=cwd, env=base, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {args} failed: {proc.stderr}")
    return proc


def cred_env(token: str) -> dict[str, str]:
    b64 = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {b64}",
    }


# -- repositories ------------------------------------------------------------------------------
def test_create_private_repo_in_org_and_duplicate_is_422(gh, g):
    repo = g.get_organization(ORG).create_repo("content-mit-801r-Fall_2030", private=True, description="8.01r")
    assert repo.private and repo.full_name == "mitx/content-mit-801r-Fall_2030"
    assert repo.default_branch == "main"
    view = gh.repo(ORG, "content-mit-801r-fall_2030")  # case-insensitive lookup
    assert view.private and view.created_by == "orc-bot" and view.description == "8.01r"
    assert gh.files(ORG, view.name) == {} and gh.commits(ORG, view.name) == []
    assert repo.url.startswith(gh.api_url + "/repos/")
    assert repo.clone_url == f"{gh.git_base}/mitx/content-mit-801r-Fall_2030.git"

    with pytest.raises(GithubException) as exc:
        g.get_organization(ORG).create_repo("CONTENT-mit-801r-fall_2030", private=True)
    assert exc.value.status == 422
    assert exc.value.data["message"] == "Repository creation failed."
    assert exc.value.data["errors"][0]["message"] == "name already exists on this account"

    # GET is case-insensitive and answers the canonical name; unknown -> 404
    assert g.get_repo("MITX/Content-MIT-801r-fall_2030").name == "content-mit-801r-Fall_2030"
    with pytest.raises(GithubException) as exc:
        g.get_repo("mitx/nope")
    assert exc.value.status == 404 and exc.value.data["message"] == "Not Found"


def test_repo_edit_and_default_branch_must_exist(gh, g):
    gh.add_repo(ORG, "r1", files={"a.txt": b"a"}, default_branch="master")
    gh.add_branch(ORG, "r1", "live")
    repo = g.get_repo("mitx/r1")
    with pytest.raises(GithubException) as exc:
        repo.edit(default_branch="nope")
    assert exc.value.status == 422
    repo.edit(default_branch="live", description="new", private=False)
    view = gh.repo(ORG, "r1")
    assert (view.default_branch, view.description, view.private) == ("live", "new", False)
    bad = raw(gh, "PATCH", "/repos/mitx/r1", json={"private": "yes"})
    assert bad.status_code == 422 and "is not a boolean" in bad.json()["message"]
    repo.delete()
    assert gh.repo(ORG, "r1") is None


# -- teams -------------------------------------------------------------------------------------
def test_team_by_slug_creator_becomes_maintainer_and_duplicate_422(gh, g):
    org = g.get_organization(ORG)
    team = org.create_team("MITx Content  Deployment!", privacy="closed", permission="pull")
    assert team.slug == team_slug("MITx Content  Deployment!") == "mitx-content-deployment"
    assert team.url == f"{gh.api_url}/organizations/{org.id}/team/{team.id}"
    view = gh.team(ORG, "mitx-content-deployment")
    assert view.members == {"orc-bot": "maintainer"}
    assert view.permission == "pull" and view.privacy == "closed"

    by_slug = org.get_team_by_slug("mitx-content-deployment")
    assert by_slug.id == team.id and by_slug.organization.login == ORG
    assert org.get_team(team.id).slug == team.slug  # /teams/{id}

    with pytest.raises(GithubException) as exc:
        org.create_team("mitx content deployment")
    assert exc.value.status == 422
    with pytest.raises(GithubException) as exc:
        org.get_team_by_slug("nope")
    assert exc.value.status == 404


def test_team_repo_without_permission_is_pull_and_explicit_push(gh, g):
    gh.allow_undocumented_routes = True  # PyGithub's Team methods use the org-id routes
    gh.add_repo(ORG, "course", files={"course.xml": b"<course/>"})
    gh.add_team(ORG, "mitx-content-deployment", members=["bob"])
    team = g.get_organization(ORG).get_team_by_slug("mitx-content-deployment")
    repo = g.get_repo("mitx/course")

    assert team.get_repo_permission(repo) is None
    assert not team.has_in_repos(repo)
    team.add_to_repos(repo)  # no permission in the body: the team's legacy permission ("pull")
    assert gh.team(ORG, "mitx-content-deployment").repos == {"mitx/course": "pull"}
    assert team.get_repo_permission(repo).pull and not team.get_repo_permission(repo).push

    # raw PUT with an explicit permission, on the URL from the team's "url" field
    resp = raw(gh, "PUT", team.url.removeprefix(gh.api_url) + "/repos/mitx/course", json={"permission": "push"})
    assert resp.status_code == 204
    assert gh.team(ORG, "mitx-content-deployment").repos == {"mitx/course": "push"}
    data = raw(
        gh,
        "GET",
        "/orgs/mitx/teams/mitx-content-deployment/repos/mitx/course",
        headers={"Accept": "application/vnd.github.v3.repository+json"},
    ).json()
    assert data["role_name"] == "write" and data["permissions"]["push"] and not data["permissions"]["admin"]
    assert raw(gh, "GET", f"/teams/{team.id}/repos/mitx/course").status_code == 204
    assert team.update_team_repository(repo, "maintain")
    assert gh.team(ORG, "mitx-content-deployment").repos == {"mitx/course": "maintain"}
    assert [r.name for r in team.get_repos()] == ["course"]
    team.remove_from_repos(repo)
    assert gh.team(ORG, "mitx-content-deployment").repos == {}


def test_team_memberships(gh, g):
    gh.allow_undocumented_routes = True  # PyGithub's Team methods use the org-id routes
    gh.add_team(ORG, "Staff", members=["bob"])
    team = g.get_organization(ORG).get_team_by_slug("staff")
    team.add_membership(g.get_user("alice"), "member")
    assert gh.team(ORG, "staff").members == {"bob": "member", "alice": "member"}
    assert team.get_team_membership("alice").state == "active"
    assert sorted(u.login for u in team.get_members()) == ["alice", "bob"]
    assert [u.login for u in team.get_members(role="maintainer")] == []
    resp = raw(gh, "PUT", f"/teams/{team.id}/memberships/ghost", json={"role": "member"})
    assert resp.status_code == 404
    team.remove_membership(g.get_user("bob"))
    assert gh.team(ORG, "staff").members == {"alice": "member"}
    assert raw(gh, "DELETE", f"/teams/{team.id}/memberships/bob").status_code == 404


# -- hooks -------------------------------------------------------------------------------------
def test_hook_create_duplicate_edit_delete(gh, g):
    gh.add_repo(ORG, "course")
    repo = g.get_repo("mitx/course")
    hook = repo.create_hook(
        "web", {"url": "https://ci.example/hook", "content_type": "form", "secret": "s"}, events=["push"], active=True
    )
    assert hook.config == {
        "content_type": "form",
        "insecure_ssl": "0",
        "url": "https://ci.example/hook",
        "secret": "********",
    }
    assert hook.url == f"{gh.api_url}/repos/mitx/course/hooks/{hook.id}"
    [seen] = gh.repo(ORG, "course").hooks
    assert seen["config"]["url"] == "https://ci.example/hook" and seen["events"] == ["push"] and seen["active"]

    with pytest.raises(GithubException) as exc:
        repo.create_hook("web", {"url": "https://ci.example/hook"})
    assert exc.value.status == 422
    assert exc.value.data["errors"][0]["message"] == "Hook already exists on this repository"

    hook.edit("web", {"url": "https://ci.example/other", "content_type": "json"}, events=["push", "pull_request"])
    assert gh.repo(ORG, "course").hooks[0]["config"]["url"] == "https://ci.example/other"
    assert [h.id for h in repo.get_hooks()] == [hook.id]
    repo.get_hook(hook.id).delete()
    assert gh.repo(ORG, "course").hooks == []


# -- contents & git data -------------------------------------------------------------------------
def test_contents_on_empty_repo_then_read_back_and_sha_rules(gh, g):
    repo = g.get_organization(ORG).create_repo("empty", private=True)
    with pytest.raises(GithubException) as exc:
        repo.get_contents("README.md")
    assert exc.value.status == 404 and exc.value.data["message"] == "This repository is empty."

    who = InputGitAuthor("Jane Doe", "jane@example.com")
    result = repo.create_file("course/course.xml", "Initial course", "<course/>", committer=who, author=who)
    assert gh.files(ORG, "empty") == {"course/course.xml": b"<course/>"}
    [commit] = gh.commits(ORG, "empty")
    assert commit["sha"] == result["commit"].sha and commit["message"] == "Initial course"
    assert (commit["author_name"], commit["committer_email"], commit["parents"]) == ("Jane Doe", "jane@example.com", [])
    assert gh.repo(ORG, "empty").default_branch == "main" and gh.branches(ORG, "empty") == ["main"]

    content = repo.get_contents("course/course.xml")
    assert content.decoded_content == b"<course/>" and content.sha == result["content"].sha
    listing = repo.get_contents("course")
    assert [c.path for c in listing] == ["course/course.xml"]
    with pytest.raises(GithubException) as exc:
        repo.get_contents("missing.txt")
    assert exc.value.status == 404 and exc.value.data["message"] == "Not Found"

    # updating needs the current blob sha
    with pytest.raises(GithubException) as exc:
        repo.create_file("course/course.xml", "again", "<course v2/>")
    assert exc.value.status == 422 and '"sha" wasn\'t supplied' in exc.value.data["message"]
    with pytest.raises(GithubException) as exc:
        repo.update_file("course/course.xml", "again", "<course v2/>", sha="0" * 40)
    assert exc.value.status == 409
    repo.update_file("course/course.xml", "v2", "<course v2/>", sha=content.sha)
    assert gh.files(ORG, "empty")["course/course.xml"] == b"<course v2/>"
    assert [c["message"] for c in gh.commits(ORG, "empty")] == ["v2", "Initial course"]
    # the committer defaults to the token's user
    assert gh.commits(ORG, "empty")[0]["committer_name"] == "orc-bot"


def test_git_data_on_empty_repo_is_409(gh, g):
    repo = g.get_organization(ORG).create_repo("empty", private=True)
    with pytest.raises(GithubException) as exc:
        _ = repo.get_git_ref("heads/main").object
    assert exc.value.status == 409 and exc.value.data["message"] == "Git Repository is empty."
    for call in (
        lambda: repo.create_git_ref("refs/heads/live", "a" * 40),
        lambda: list(repo.get_commits()),
        lambda: repo.create_git_blob("x", "utf-8"),
    ):
        with pytest.raises(GithubException) as exc:
            call()
        assert exc.value.status == 409
    assert list(repo.get_branches()) == []


def test_create_live_ref_from_default_branch(gh, g):
    gh.add_repo(
        ORG,
        "course",
        files={"course.xml": b"<course/>"},
        default_branch="master",
        message="init",
        author=("Jane", "jane@x"),
    )
    repo = g.get_repo("mitx/course")
    head = repo.get_branch(repo.default_branch).commit.sha
    assert repo.get_git_ref("heads/master").object.sha == head
    with pytest.raises(GithubException) as exc:
        _ = repo.get_git_ref("heads/live").object
    assert exc.value.status == 404
    ref = repo.create_git_ref("refs/heads/live", head)
    assert ref.ref == "refs/heads/live" and ref.object.sha == head
    assert gh.branches(ORG, "course") == ["live", "master"]
    assert gh.files(ORG, "course", ref="live") == {"course.xml": b"<course/>"}
    with pytest.raises(GithubException) as exc:
        repo.create_git_ref("refs/heads/live", head)
    assert exc.value.status == 422 and exc.value.data["message"] == "Reference already exists"
    with pytest.raises(GithubException) as exc:
        repo.create_git_ref("refs/heads/other", "1" * 40)
    assert exc.value.status == 422 and exc.value.data["message"] == "Object does not exist"
    with pytest.raises(GithubException) as exc:
        repo.get_branch("nope")
    assert exc.value.status == 404 and exc.value.data["message"] == "Branch not found"


def test_git_data_blob_tree_commit_roundtrip(gh, g):
    gh.add_repo(ORG, "course", files={"a.txt": b"a", "dir/b.txt": b"b"})
    repo = g.get_repo("mitx/course")
    head = repo.get_git_ref("heads/master").object.sha
    base = repo.get_git_commit(head)
    blob = repo.create_git_blob("new", "utf-8")
    from github import InputGitTreeElement

    tree = repo.create_git_tree([InputGitTreeElement("c.txt", "100644", "blob", sha=blob.sha)], base.tree)
    commit = repo.create_git_commit("add c", tree, [base])
    repo.get_git_ref("heads/master").edit(commit.sha)
    assert gh.files(ORG, "course") == {"a.txt": b"a", "dir/b.txt": b"b", "c.txt": b"new"}
    assert sorted(e.path for e in repo.get_git_tree(commit.sha, recursive=True).tree) == [
        "a.txt",
        "c.txt",
        "dir",
        "dir/b.txt",
    ]
    assert [c.sha for c in repo.get_commits()] == [commit.sha, head]
    assert [f.filename for f in repo.get_commit(commit.sha).files] == ["c.txt"]


def test_commit_listing_paginates(gh, g):
    gh.add_repo(ORG, "course", files={"f.txt": b"0"})
    for i in range(1, 35):
        gh.add_commit(ORG, "course", {"f.txt": str(i).encode()}, message=f"c{i}")
    resp = raw(gh, "GET", "/repos/mitx/course/commits")
    assert len(resp.json()) == 30 and 'rel="next"' in resp.headers["link"]
    assert [c.commit.message for c in g.get_repo("mitx/course").get_commits()][:2] == ["c34", "c33"]
    assert g.get_repo("mitx/course").get_commits().totalCount == 35


# -- pagination, auth, limits -------------------------------------------------------------------
def test_pagination_link_headers_250_teams(gh, g):
    for i in range(250):
        gh.add_team(ORG, f"team-{i:03d}")
    gh.reset_counts()
    first = raw(gh, "GET", "/orgs/mitx/teams", params={"per_page": 100})
    assert len(first.json()) == 100
    base = f"{gh.api_url}/orgs/mitx/teams?per_page=100"
    assert first.headers["link"] == f'<{base}&page=2>; rel="next", <{base}&page=3>; rel="last"'
    third = requests.get(first.links["last"]["url"], headers={"Authorization": f"token {gh.token}"}, timeout=10)
    assert len(third.json()) == 50
    assert third.headers["link"] == f'<{base}&page=2>; rel="prev", <{base}&page=1>; rel="first"'
    middle = raw(gh, "GET", "/orgs/mitx/teams", params={"per_page": 100, "page": 2})
    assert set(middle.links) == {"prev", "next", "last", "first"}

    names = [t.name for t in client(gh, per_page=100).get_organization(ORG).get_teams()]
    assert len(names) == 250 and len(set(names)) == 250
    assert gh.count("GET", "/orgs/mitx/teams") == 2 + 3 + 1  # 2 raw pages + 3 PyGithub pages + 1 last page above
    assert raw(gh, "GET", "/orgs/mitx/teams", params={"per_page": 1000}).headers["link"].count("page=3") == 1


def test_auth_required(gh):
    resp = raw(gh, "GET", "/user", token=None)
    assert resp.status_code == 401 and resp.json()["message"] == "Requires authentication"
    resp = raw(gh, "GET", "/orgs/mitx", token="wrong")
    assert resp.status_code == 401 and resp.json()["message"] == "Bad credentials"
    with pytest.raises(GithubException) as exc:
        _ = client(gh, token="nope").get_user().login
    assert exc.value.status == 401
    resp = raw(gh, "GET", "/user", headers={"Authorization": f"Bearer {gh.token}"}, token=None)
    assert resp.status_code == 200 and resp.json()["login"] == "orc-bot"
    for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used"):
        assert resp.headers[name].isdigit()
    assert resp.headers["x-ratelimit-resource"] == "core"
    assert resp.headers["content-type"] == "application/json; charset=utf-8"
    assert raw(gh, "GET", "/not/implemented").status_code == 404


def test_secondary_limit_403_with_retry_after_and_no_change():
    now = [1000.0]
    with FakeGitHub(writes_per_minute=5, clock=lambda: now[0]) as gh:
        gh.add_org(ORG)
        g = client(gh)
        org = g.get_organization(ORG)
        for i in range(5):
            org.create_repo(f"r{i}", private=True)
            now[0] += 1
        with pytest.raises(GithubException) as exc:
            org.create_repo("r5", private=True)
        assert exc.value.status == 403
        assert exc.value.data["message"].startswith("You have exceeded a secondary rate limit")
        assert exc.value.headers["retry-after"] == "55"  # the first write (t=1000) leaves the window at 1060
        assert gh.secondary_limit_hits == 1 and gh.repo(ORG, "r5") is None
        assert gh.writes_in_window(60) == 5
        assert g.get_repo("mitx/r0").private  # reads are not limited
        now[0] = 1060.5
        org.create_repo("r5", private=True)
        assert gh.repo(ORG, "r5") is not None


def test_secondary_limit_with_scaled_clock():
    start = time.monotonic()
    with FakeGitHub(writes_per_minute=2, clock=lambda: (time.monotonic() - start) * 100) as gh:
        gh.add_org(ORG)
        statuses = [raw(gh, "POST", "/orgs/mitx/repos", json={"name": f"r{i}"}).status_code for i in range(3)]
        assert statuses == [201, 201, 403]
        time.sleep(0.7)  # 70 scaled seconds
        assert raw(gh, "POST", "/orgs/mitx/repos", json={"name": "r9"}).status_code == 201


def test_primary_limit_and_concurrency_limit():
    with FakeGitHub(primary_limit=3, max_concurrent=1) as gh:
        for _ in range(3):
            assert raw(gh, "GET", "/user").status_code == 200
        resp = raw(gh, "GET", "/user")
        assert resp.status_code == 403 and resp.json()["message"].startswith("API rate limit exceeded")
        assert resp.headers["x-ratelimit-remaining"] == "0"
        assert int(resp.headers["x-ratelimit-reset"]) > time.time()
        gh.reset_limits()
        gate = gh.block("GET", r"/user$")
        t = threading.Thread(target=raw, args=(gh, "GET", "/user"))
        t.start()
        assert gate.wait_hit(5)
        busy = raw(gh, "GET", "/rate_limit")
        assert busy.status_code == 403 and "secondary rate limit" in busy.json()["message"]
        assert gh.secondary_limit_hits == 1
        gate.release()
        t.join(5)


# -- git smart HTTP ------------------------------------------------------------------------------
def test_git_clone_private_repo_needs_credentials(gh, tmp_path):
    gh.add_repo(ORG, "content-mit-801r-Fall_2030", files={"course.xml": b"<course/>", "course/Fall_2030.xml": b"<x/>"})
    url = f"{gh.git_base}/mitx/Content-MIT-801r-fall_2030.git"  # case-insensitive like GitHub
    denied = git("clone", "-q", url, str(tmp_path / "nocreds"), check=False)
    assert denied.returncode != 0
    git("clone", "-q", url, str(tmp_path / "work"), env=cred_env(gh.token))
    assert (tmp_path / "work" / "course" / "Fall_2030.xml").read_bytes() == b"<x/>"
    wrong = git("clone", "-q", url, str(tmp_path / "wrong"), env=cred_env("bad"), check=False)
    assert wrong.returncode != 0
    missing = git(
        "clone", "-q", f"{gh.git_base}/mitx/nope.git", str(tmp_path / "missing"), env=cred_env(gh.token), check=False
    )
    assert missing.returncode != 0
    assert gh.count("GET", "/info/refs") >= 4


def test_push_first_commit_to_empty_repo_sets_default_branch(gh, g, tmp_path):
    repo = g.get_organization(ORG).create_repo("empty", private=True)
    work = tmp_path / "w"
    git("init", "-q", "-b", "master", str(work))
    (work / "course.xml").write_bytes(b"<course/>")
    (work / "big.bin").write_bytes(os.urandom(1_500_000))  # over http.postBuffer: a chunked request body
    git("add", ".", cwd=str(work))
    git("commit", "-q", "-m", "Initial import", cwd=str(work))
    gh.reset_counts()
    git("push", "-q", repo.clone_url, "master", cwd=str(work), env=cred_env(gh.token))
    assert gh.count("POST", "git-receive-pack") == 2  # git probes with an empty POST before a big push
    assert gh.writes_in_window(60) == 2  # create_repo + the push itself
    assert gh.branches(ORG, "empty") == ["master"]
    assert gh.repo(ORG, "empty").default_branch == "master"
    assert gh.files(ORG, "empty")["course.xml"] == b"<course/>"
    [commit] = gh.commits(ORG, "empty")
    assert commit["message"] == "Initial import" and commit["author_email"] == "pusher@example.com"
    fresh = g.get_repo("mitx/empty")
    assert fresh.default_branch == "master"
    assert fresh.get_contents("course.xml").decoded_content == b"<course/>"
    assert fresh.get_contents("big.bin").encoding == "none"  # > 1 MB: GitHub stops inlining
    # REST writes are visible to git, too
    fresh.create_file("README.md", "readme", "hi", branch="master")
    git("pull", "-q", repo.clone_url, "master", cwd=str(work), env=cred_env(gh.token))
    assert (work / "README.md").read_text() == "hi"
    # deleting the default branch by push is refused, as on GitHub
    refused = git("push", repo.clone_url, ":master", cwd=str(work), env=cred_env(gh.token), check=False)
    assert refused.returncode != 0 and gh.branches(ORG, "empty") == ["master"]


def test_push_counts_as_a_write():
    now = [0.0]
    with FakeGitHub(writes_per_minute=1, clock=lambda: now[0]) as gh:
        gh.add_org(ORG)
        gh.add_repo(ORG, "r", files={"a": b"a"})
        assert raw(gh, "POST", "/orgs/mitx/repos", json={"name": "x"}).status_code == 201
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            git("clone", "-q", f"{gh.git_base}/mitx/r.git", d, env=cred_env(gh.token))
            with open(os.path.join(d, "b"), "w") as fh:
                fh.write("b")
            git("add", "b", cwd=d)
            git("commit", "-q", "-m", "b", cwd=d)
            rejected = git("push", "-q", "origin", "HEAD", cwd=d, env=cred_env(gh.token), check=False)
            assert rejected.returncode != 0 and gh.secondary_limit_hits == 1
            now[0] = 61
            git("push", "-q", "origin", "HEAD", cwd=d, env=cred_env(gh.token))
        assert gh.files(ORG, "r") == {"a": b"a", "b": b"b"}


# -- harness features --------------------------------------------------------------------------
def test_block_gate_across_threads(gh, g):
    gate = gh.block("POST", r"/orgs/mitx/teams$")
    done = threading.Event()
    result = {}

    def create():
        result["team"] = client(gh).get_organization(ORG).create_team("Blocked")
        done.set()

    t = threading.Thread(target=create)
    t.start()
    assert gate.wait_hit(5)
    time.sleep(0.1)
    assert not done.is_set() and gh.team(ORG, "blocked") is None
    assert g.get_user().login == "orc-bot"  # other requests still flow
    gate.release()
    assert done.wait(5)
    t.join(5)
    assert result["team"].slug == "blocked" and gate.hits == 1


def test_fail_delay_latency_and_request_log(gh, g):
    gh.fail("GET", r"/user$", 502, times=1)
    with pytest.raises(GithubException) as exc:
        _ = g.get_user().login
    assert exc.value.status == 502
    assert g.get_user().login == "orc-bot"

    gh.delay("GET", r"/orgs/mitx$", 0.2)
    t0 = time.monotonic()
    _ = g.get_organization(ORG).login
    assert time.monotonic() - t0 >= 0.2
    gh.latency = 0.1
    t0 = time.monotonic()
    raw(gh, "GET", "/user")
    assert time.monotonic() - t0 >= 0.1
    gh.latency = 0.0

    statuses = [(r.method, r.path, r.status) for r in gh.requests]
    assert statuses[:2] == [("GET", "/api/v3/user", 502), ("GET", "/api/v3/user", 200)]
    assert gh.count("GET", "/user") == 3 and gh.count(method="get") == 4
    gh.reset_counts()
    assert gh.requests == [] and gh.count() == 0


def test_github_com_style_prefix_and_etag():
    with FakeGitHub(api_prefix="", allow_undocumented_routes=True) as gh:
        gh.add_org(ORG)
        assert gh.api_url == gh.git_base
        g = client(gh)
        repo = g.get_organization(ORG).create_repo("plain", private=True)
        assert repo.url == f"{gh.git_base}/repos/mitx/plain"
        team = g.get_organization(ORG).create_team("T")
        team.add_to_repos(repo)
        assert gh.team(ORG, "t").repos == {"mitx/plain": "pull"}
        first = raw(gh, "GET", "/repos/mitx/plain")
        again = raw(gh, "GET", "/repos/mitx/plain", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.headers["x-ratelimit-used"] == first.headers["x-ratelimit-used"]


# -- undocumented routes -----------------------------------------------------------------------
def test_undocumented_team_routes_refused_and_recorded():
    fake = FakeGitHub(allow_undocumented_routes=False)
    fake.add_org(ORG)
    fake.add_user("alice")
    with fake:
        g = client(fake)
        org = g.get_organization(ORG)
        team = org.create_team("Staff")
        assert team.url == f"{fake.api_url}/organizations/{org.id}/team/{team.id}"  # what GitHub says
        with pytest.raises(GithubException) as exc:
            team.add_membership(g.get_user("alice"), "member")  # PyGithub follows team.url
        assert exc.value.status == 404
        assert exc.value.data["message"] == "Not Found"
        assert exc.value.data["documentation_url"] == "https://docs.github.com/rest"
        unknown = raw(fake, "GET", "/no/such/route").json()
        undocumented = raw(fake, "GET", f"/organizations/{org.id}/team/{team.id}")
        assert undocumented.status_code == 404 and undocumented.json() == unknown  # like any missing route
        assert fake.team(ORG, "staff").members == {"orc-bot": "maintainer"}
        prefix = fake.api_prefix
        assert fake.undocumented_calls == [
            ("PUT", f"{prefix}/organizations/{org.id}/team/{team.id}/memberships/alice"),
            ("GET", f"{prefix}/organizations/{org.id}/team/{team.id}"),
        ]
        # the documented slug routes and the legacy /teams/{id} routes keep working
        assert raw(fake, "PUT", "/orgs/mitx/teams/staff/memberships/alice", json={"role": "member"}).status_code == 200
        assert raw(fake, "GET", f"/teams/{team.id}/memberships/alice").json()["state"] == "active"
        assert org.get_team_by_slug("staff").slug == "staff"
        assert fake.team(ORG, "staff").members == {"orc-bot": "maintainer", "alice": "member"}
        assert len(fake.undocumented_calls) == 2
        g.close()
    assert fake.server_errors == []


def test_undocumented_team_routes_allowed_are_still_recorded():
    fake = FakeGitHub(allow_undocumented_routes=True)
    fake.add_org(ORG)
    fake.add_user("alice")
    with fake:
        g = client(fake)
        team = g.get_organization(ORG).create_team("Staff")
        team.add_membership(g.get_user("alice"), "member")
        assert fake.team(ORG, "staff").members["alice"] == "member"
        assert [m for m, _ in fake.undocumented_calls] == ["PUT"]
        assert fake.undocumented_calls[0][1].endswith(f"/team/{team.id}/memberships/alice")
        g.close()
    assert fake.server_errors == []


# -- API version and Authorization scheme ------------------------------------------------------
def test_api_version_header_recorded_and_unsupported_is_400(gh):
    g = client(gh, api_version="2026-03-10")
    assert g.get_organization(ORG).login == ORG
    rec = gh.requests[-1]
    assert rec.api_version == "2026-03-10" and rec.auth_scheme == "token"
    g.close()

    ok = raw(gh, "GET", "/orgs/mitx")  # no header: GitHub's default version
    assert ok.status_code == 200 and ok.headers["x-github-api-version-selected"] == "2022-11-28"
    assert gh.requests[-1].api_version is None
    new = raw(gh, "GET", "/orgs/mitx", headers={"X-GitHub-Api-Version": "2026-03-10"})
    assert new.status_code == 200 and new.headers["x-github-api-version-selected"] == "2026-03-10"

    bad = raw(gh, "GET", "/orgs/mitx", headers={"X-GitHub-Api-Version": "1999-01-01"})
    assert bad.status_code == 400
    assert bad.json() == {
        "message": "Bad Request",
        "errors": 'The version you specified in the "X-GitHub-API-Version" request header, "1999-01-01", '
        'is not a supported version. The following versions are currently supported: "2026-03-10" (most recent) '
        'and "2022-11-28".',
        "documentation_url": "https://docs.github.com/rest",
        "status": "400",
    }
    assert gh.requests[-1].api_version == "1999-01-01" and gh.requests[-1].status == 400
    with pytest.raises(GithubException) as exc:
        client(gh, api_version="v3").get_organization(ORG)
    assert exc.value.status == 400 and '"v3"' in exc.value.data["errors"]


def test_auth_scheme_recorded_without_the_secret(gh, tmp_path):
    gh.add_repo(ORG, "course", files={"course.xml": b"<course/>"})
    raw(gh, "GET", "/orgs/mitx")
    raw(gh, "GET", "/orgs/mitx", headers={"Authorization": f"Bearer {gh.token}"}, token=None)
    basic = base64.b64encode(f"x-access-token:{gh.token}".encode()).decode()
    raw(gh, "GET", "/orgs/mitx", headers={"Authorization": f"Basic {basic}"}, token=None)
    raw(gh, "GET", "/orgs/mitx", token=None)
    git("clone", "-q", f"{gh.git_base}/mitx/course.git", str(tmp_path / "w"), env=cred_env(gh.token))
    records = gh.requests
    assert [r.auth_scheme for r in records[:4]] == ["token", "Bearer", "Basic", None]
    assert {r.auth_scheme for r in records[4:]} == {"Basic"}  # git's http.extraHeader
    for rec in records:
        assert gh.token not in repr(rec) and basic not in repr(rec)
    assert tuple(records[0]) == (records[0].method, records[0].path, records[0].query, 200, records[0].t)


# -- content facts a copy needs ----------------------------------------------------------------
def test_symlinks_and_executables_in_trees_clone_and_contents(gh, g, tmp_path):
    gh.add_repo(
        ORG,
        "course",
        files={
            "course.xml": b"<course/>",
            "static/logo.txt": b"logo",
            "link": Symlink("../../etc/passwd"),
            "static/to-logo": Symlink("logo.txt"),
            "dir-link": Symlink("static"),
            "run.sh": Executable(b"#!/bin/sh\necho hi\n"),
        },
    )
    entries = gh.tree_entries(ORG, "course")
    assert {p: mode for p, (mode, _) in entries.items()} == {
        "course.xml": "100644",
        "dir-link": "120000",
        "link": "120000",
        "run.sh": "100755",
        "static/logo.txt": "100644",
        "static/to-logo": "120000",
    }
    files = gh.files(ORG, "course")
    assert files["run.sh"] == b"#!/bin/sh\necho hi\n" and files["link"] == b"../../etc/passwd"

    repo = g.get_repo("mitx/course")
    tree = {e.path: e for e in repo.get_git_tree(repo.default_branch, recursive=True).tree}
    assert tree["link"].mode == "120000" and tree["run.sh"].mode == "100755"
    assert tree["link"].sha == entries["link"][1]

    git("clone", "-q", repo.clone_url, str(tmp_path / "w"), env=cred_env(gh.token))
    work = tmp_path / "w"
    assert (work / "link").is_symlink() and os.readlink(work / "link") == "../../etc/passwd"
    assert os.access(work / "run.sh", os.X_OK) and not os.access(work / "course.xml", os.X_OK)

    # the symlink itself, when its target is not a normal file of the repository
    link = raw(gh, "GET", "/repos/mitx/course/contents/link").json()
    assert link["type"] == "symlink" and link["target"] == "../../etc/passwd"
    assert link["sha"] == entries["link"][1] and link["size"] == len("../../etc/passwd")
    assert "content" not in link and link["path"] == "link"
    to_dir = raw(gh, "GET", "/repos/mitx/course/contents/dir-link").json()
    assert to_dir["type"] == "symlink" and to_dir["target"] == "static"
    # a symlink to a normal file in the repository answers with that file
    to_logo = repo.get_contents("static/to-logo")
    assert to_logo.type == "file" and to_logo.decoded_content == b"logo" and to_logo.path == "static/logo.txt"
    # no path leads through a symlink
    assert raw(gh, "GET", "/repos/mitx/course/contents/dir-link/logo.txt").status_code == 404
    listing = {c.name: c.type for c in repo.get_contents("")}
    assert listing["link"] == "symlink" and listing["run.sh"] == "file"

    # a later commit can add and replace them; updating an executable keeps its mode
    gh.add_commit(ORG, "course", {"bin/tool": Executable("#!/bin/sh\n"), "link": None})
    assert "link" not in gh.tree_entries(ORG, "course")
    assert gh.tree_entries(ORG, "course")["bin/tool"][0] == "100755"
    current = repo.get_contents("run.sh")
    repo.update_file("run.sh", "edit", "#!/bin/sh\necho bye\n", current.sha)
    assert gh.tree_entries(ORG, "course")["run.sh"][0] == "100755"


def test_repo_size_and_timestamps(gh, g, tmp_path):
    repo = g.get_organization(ORG).create_repo("fresh", private=True)
    assert repo.size == 0
    assert repo.created_at == repo.updated_at == repo.pushed_at
    view = gh.repo(ORG, "fresh")
    assert view.size == 0 and view.created_at == view.pushed_at == view.updated_at

    gh.add_repo(ORG, "big", files={"blob.bin": os.urandom(300_000), "course.xml": b"<course/>"})
    size = g.get_repo("mitx/big").size
    assert 290 <= size <= 330  # KB, about the packed size of random data
    gh.set_repo_size(ORG, "big", 9_000_000)
    assert g.get_repo("mitx/big").size == 9_000_000 and gh.repo(ORG, "big").size == 9_000_000
    assert g.get_organization(ORG).disk_usage >= 9_000_000
    gh.set_repo_size(ORG, "big", None)
    assert g.get_repo("mitx/big").size == size

    before = g.get_repo("mitx/big")
    time.sleep(1.1)
    work = tmp_path / "w"
    git("clone", "-q", before.clone_url, str(work), env=cred_env(gh.token))
    (work / "more.txt").write_text("more")
    git("add", ".", cwd=str(work))
    git("commit", "-q", "-m", "more", cwd=str(work))
    git("push", "-q", "origin", "HEAD", cwd=str(work), env=cred_env(gh.token))
    after = g.get_repo("mitx/big")
    assert after.created_at == before.created_at
    assert after.pushed_at > before.pushed_at and after.updated_at >= after.pushed_at
    assert after.size >= size


def test_repos_seeded_in_bulk_answer_like_any_other(gh, g):
    gh.add_repos(ORG, [f"bulk-{n}" for n in range(50)])
    repo = g.get_organization(ORG).get_repo("bulk-7")
    assert repo.private and repo.full_name == f"{ORG}/bulk-7"
    assert raw(gh, "GET", f"/repos/{ORG}/bulk-8/commits").status_code == 409  # empty, as a new repo is
    sha = gh.add_commit(ORG, "bulk-9", {"README.md": b"hi\n"})  # its git directory is made on first use
    assert gh.commits(ORG, "bulk-9")[0]["sha"] == sha
    with pytest.raises(ValueError):
        gh.add_repos(ORG, ["bulk-3"])
