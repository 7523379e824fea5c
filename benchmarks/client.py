"""A small keep-alive HTTP client (standard library only): logging in and load generation.

Only ever talks to the local server under test.
"""

from __future__ import annotations

import http.client
import math
import re
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


class Client:
    """One keep-alive connection with a cookie jar. Not shared between threads."""

    def __init__(self, base_url: str, cookies: dict[str, str] | None = None, timeout: float = 30):
        parts = urlsplit(base_url)
        if parts.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError("Benchmarks only send traffic to the local server.")
        self.host, self.port = parts.hostname, parts.port or 80
        self.cookies = dict(cookies or {})
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._reused = False
        self.reconnects = 0

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        body = urlencode(form).encode() if form is not None else None
        all_headers = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
                self._reused = False
            try:
                self._connection.request(method, path, body=body, headers=all_headers)
                raw = self._connection.getresponse()
                response = Response(raw.status, raw.headers, raw.read())
            except RETRYABLE:
                # The server may close an idle keep-alive connection just as we reuse it;
                # that is not the page's fault, so try once more on a fresh connection.
                self.close()
                if attempt == 2 or not self._reused:
                    raise
                self.reconnects += 1
                continue
            if raw.will_close:
                self.close()
            else:
                self._reused = True
            self._remember_cookies(response)
            return response
        raise AssertionError("unreachable")

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str], referer: str) -> Response:
        return self.request(
            "POST", path, form=form, headers={"Referer": f"http://{self.host}:{self.port}{referer}"}
        )

    def _remember_cookies(self, response: Response) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value or morsel.value == '""':
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


def _submit(client: Client, path: str, fields: dict[str, str]) -> Response:
    page = client.get(path)
    if page.status != 200:
        raise RuntimeError(f"GET {path} answered {page.status}.")
    match = CSRF_INPUT.search(page.body)
    if not match:
        raise RuntimeError(f"No CSRF token on {path}.")
    return client.post(path, {"csrfmiddlewaretoken": match.group(1).decode(), **fields}, path)


def log_in(base_url: str, email: str, password: str, totp_code=None) -> dict[str, str]:
    """Log in through allauth like a browser; returns the session cookies.

    TOTP_CODE is a callable returning the current code, for accounts with two factors.
    """
    client = Client(base_url)
    try:
        response = _submit(client, "/accounts/login/", {"login": email, "password": password})
        if response.status != 302:
            raise RuntimeError(f"Login of {email} failed (status {response.status}).")
        if "/2fa/authenticate" in response.location:
            if totp_code is None:
                raise RuntimeError(f"{email} needs a TOTP code.")
            response = _submit(client, urlsplit(response.location).path, {"code": totp_code()})
            if response.status != 302 or "/2fa/" in response.location:
                raise RuntimeError(f"TOTP step for {email} failed (status {response.status}).")
        if "sessionid" not in client.cookies:
            raise RuntimeError(f"No session cookie after logging in {email}.")
        # Only the session travels with the load; a pending "signed in" message would
        # otherwise be rendered (and deleted) on every measured request.
        return {"sessionid": client.cookies["sessionid"]}
    finally:
        client.close()


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class LoadResult:
    latencies_ms: list[float]
    seconds: float
    errors: int
    error_samples: list[str] = field(default_factory=list)
    capped: bool = False
    reconnects: int = 0

    @property
    def completed(self) -> int:
        return len(self.latencies_ms) + self.errors

    def metrics(self) -> dict[str, float | int | str]:
        ordered = sorted(self.latencies_ms)
        return {
            "n": self.completed,
            "p50 ms": percentile(ordered, 50),
            "p95 ms": percentile(ordered, 95),
            "p99 ms": percentile(ordered, 99),
            "max ms": ordered[-1] if ordered else math.nan,
            "req/s": self.completed / self.seconds if self.seconds else math.nan,
            "errors": self.errors,
        }


def load(
    base_url: str,
    path: str,
    *,
    cookies: dict[str, str],
    requests: int,
    concurrency: int,
    expect: bytes,
    forbid: bytes | None = None,
    max_seconds: float = 60,
) -> LoadResult:
    """Send REQUESTS GETs of PATH from CONCURRENCY clients, each with its own connection.

    Every response must be 200 and contain EXPECT (and not FORBID), else it counts as an
    error. Stops early once MAX_SECONDS have passed, so a slow page cannot stall the run.
    """
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    errors: list[str] = []
    reconnects = 0
    capped = False
    started = time.perf_counter()
    deadline = started + max_seconds

    def worker() -> None:
        nonlocal issued, reconnects, capped
        client = Client(base_url, cookies)
        try:
            while True:
                with lock:
                    if issued >= requests:
                        return
                    if time.perf_counter() > deadline:
                        capped = True
                        return
                    issued += 1
                began = time.perf_counter()
                try:
                    response = client.get(path)
                except (OSError, http.client.HTTPException) as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                else:
                    problem = None
                    if response.status != 200:
                        problem = f"status {response.status} {response.location}".strip()
                    elif expect not in response.body:
                        problem = f"marker {expect!r} missing"
                    elif forbid is not None and forbid in response.body:
                        problem = f"unexpected {forbid!r}"
                elapsed = (time.perf_counter() - began) * 1000
                with lock:
                    if problem is None:
                        latencies.append(elapsed)
                    else:
                        errors.append(problem)
        finally:
            with lock:
                reconnects += client.reconnects
            client.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Each request has a socket timeout, so this join is bounded too.
        thread.join()
    seconds = time.perf_counter() - started
    return LoadResult(latencies, seconds, len(errors), sorted(set(errors))[:5], capped, reconnects)
