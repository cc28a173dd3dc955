"""A fake edX LMS course listing API (`/api/courses/v1/courses/`), paginated like the real one."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit


class FakeEdx:
    """Serves the course list; `search_term` is ignored unless `search=True` (as on LMSes without search)."""

    def __init__(self, token: str = "edx-token", page_size: int = 10, search: bool = False) -> None:
        self.token, self.page_size, self.search = token, page_size, search
        self.courses: list[dict] = []
        self.requests: list[str] = []
        self.down = False
        self._server: ThreadingHTTPServer | None = None

    def add_course(self, number: str, run: str = "2030_Fall", org: str = "MITx") -> None:
        self.courses.append(
            {
                "course_id": f"course-v1:{org}+{number}+{run}",
                "number": number,
                "org": org,
                "name": f"Course {number}",
                "id": f"course-v1:{org}+{number}+{run}",
            }
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeEdx:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                if fake.down:
                    return self._send(503, {"detail": "down"})
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._send(401, {"detail": "Authentication credentials were not provided."})
                parts = urlsplit(self.path)
                if parts.path != "/api/courses/v1/courses/":
                    return self._send(404, {"detail": "Not found."})
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                page = int(query.get("page", 1))
                courses = fake.courses
                if fake.search and query.get("search_term"):
                    courses = [c for c in courses if query["search_term"].lower() in c["number"].lower()]
                start = (page - 1) * fake.page_size
                chunk = courses[start : start + fake.page_size]
                more = start + fake.page_size < len(courses)
                nxt = f"{fake.url}{parts.path}?{urlencode({**query, 'page': page + 1})}" if more else None
                self._send(
                    200,
                    {
                        "results": chunk,
                        "pagination": {
                            "next": nxt,
                            "count": len(courses),
                            "num_pages": max(1, -(-len(courses) // fake.page_size)),
                        },
                    },
                )

            def _send(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
