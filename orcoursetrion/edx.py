"""The edX LMS course listing API (`/api/courses/v1/courses/`), for the duplicate check."""

from __future__ import annotations

import logging

import requests

from orcoursetrion.errors import EdxError

log = logging.getLogger(__name__)
MAX_PAGES = 200


class Edx:
    """Reads the LMS course catalogue; only `course_exists` is needed."""

    def __init__(self, api_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.base = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    def course_exists(self, number: str) -> str | None:
        """The id of an LMS course whose number equals `number` (case-insensitively), else None.

        `search_term` narrows the listing where the LMS supports search; every page is
        still compared by number, so an LMS without search gives the same answer.
        """
        wanted = number.strip().lower()
        url: str | None = f"{self.base}/api/courses/v1/courses/"
        params: dict | None = {"search_term": number, "page_size": 100}
        for _ in range(MAX_PAGES):
            if url is None:
                return None
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
            except requests.RequestException as exc:
                raise EdxError(
                    f"Could not reach the edX course listing to check for duplicates ({type(exc).__name__})."
                ) from None
            if response.status_code != 200:
                raise EdxError(f"The edX course listing answered {response.status_code}; cannot check for duplicates.")
            try:
                data = response.json()
            except ValueError:
                raise EdxError("The edX course listing did not answer with JSON.") from None
            for course in data.get("results") or []:
                if str(course.get("number", "")).strip().lower() == wanted:
                    return course.get("course_id") or course.get("id") or number
            url = (data.get("pagination") or {}).get("next") or data.get("next")
            params = None
        raise EdxError("The edX course listing has too many pages to check.")
