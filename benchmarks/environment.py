"""The benchmark's own database and production-like settings, kept apart from the demo.

SQLite by default (a file under var/bench/), or PostgreSQL when DATABASE_URL says so.
A fresh database is built on every run unless `--reuse` finds one seeded at the same size.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"


def backbone_command() -> list[str]:
    script = Path(sys.executable).parent / "backbone"
    return [str(script)] if script.exists() else [sys.executable, "-m", "backbone"]


@dataclass
class Database:
    url: str
    engine: str  # "sqlite" or "postgresql"
    name: str

    @classmethod
    def from_url(cls, url: str | None, size: str) -> Database:
        if not url:
            path = BENCH_DIR / f"bench-{size}.sqlite3"
            return cls(f"sqlite:///{path}", "sqlite", str(path))
        parts = urlsplit(url)
        if parts.scheme.startswith("sqlite"):
            return cls(url, "sqlite", unquote(parts.path[1:]) if parts.path else "")
        if parts.scheme in ("postgres", "postgresql", "pgsql"):
            return cls(url, "postgresql", unquote(parts.path.lstrip("/")))
        raise SystemExit(f"Unsupported DATABASE_URL scheme {parts.scheme!r} for benchmarks.")

    @property
    def display(self) -> str:
        """The URL without a password, for the printed header and the JSON."""
        if self.engine == "sqlite":
            path = Path(self.name)
            return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        parts = urlsplit(self.url)
        netloc = parts.hostname or ""
        if parts.username:
            netloc = f"{parts.username}@{netloc}"
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    @property
    def marker(self) -> Path:
        digest = hashlib.sha256(self.display.encode()).hexdigest()[:12]
        return BENCH_DIR / f"seeded-{self.engine}-{digest}.json"

    def seeded_size(self) -> str | None:
        if self.engine == "sqlite" and not Path(self.name).exists():
            return None
        try:
            return json.loads(self.marker.read_text()).get("size")
        except (OSError, ValueError):
            return None

    def mark_seeded(self, size: str) -> None:
        self.marker.write_text(json.dumps({"size": size, "database": self.display}) + "\n")

    def reset(self) -> None:
        """Start from an empty database. Only ever drops a database meant for benchmarks."""
        self.marker.unlink(missing_ok=True)
        if self.engine == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(self.name + suffix).unlink(missing_ok=True)
            Path(self.name).parent.mkdir(parents=True, exist_ok=True)
            return
        if "bench" not in self.name:
            raise SystemExit(
                f"Refusing to drop the PostgreSQL database {self.name!r}: its name does not "
                "contain 'bench'. Use a database meant for benchmarks, or pass --reuse."
            )
        from psycopg import sql

        with self._maintenance_connection() as connection:
            name = sql.Identifier(self.name)
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def ensure_exists(self) -> None:
        if self.engine == "sqlite":
            Path(self.name).parent.mkdir(parents=True, exist_ok=True)
            return
        with self._maintenance_connection() as connection:
            found = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.name]
            ).fetchone()
            if not found:
                from psycopg import sql

                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def analyze(self) -> None:
        """Give PostgreSQL's planner statistics, as autovacuum soon would in production.

        Right after a bulk seed it has none and picks plans for six-row tables. SQLite
        never gathers statistics by itself, so it is measured as it is deployed.
        """
        if self.engine != "postgresql":
            return
        with self._connect(self.name) as connection:
            connection.execute("ANALYZE")

    def _maintenance_connection(self):
        return self._connect("postgres")

    def _connect(self, dbname: str):
        import psycopg

        parts = urlsplit(self.url)
        return psycopg.connect(
            host=parts.hostname or None,
            port=parts.port or None,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            dbname=dbname,
            autocommit=True,
        )


BENCH_ENCRYPTION_KEY = "YmVuY2htYXJrLW9ubHkta2V5LW5vdC1hLXNlY3JldCE="


def production_env(database: Database) -> dict[str, str]:
    """DEBUG=0 settings as a deployment would run them, minus TLS (traffic is local)."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "backbone.config.settings",
            "BACKBONE_HOME": str(ROOT),
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            # Fixed, benchmark-only keys: a reused benchmark database must stay readable
            # from one run to the next (a deployment sets its own; see docs/referrals.md).
            "BACKBONE_ENCRYPTION_KEYS": BENCH_ENCRYPTION_KEY,
            "BACKBONE_BLIND_INDEX_KEY": "benchmark-only-blind-index-key",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database.url,
            "DATA_DIR": str(BENCH_DIR / "data"),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    # A developer's cache or task settings must not leak into the measured server.
    for name in ("REDIS_URL", "TASKS_BACKEND", "STATIC_ROOT", "MEDIA_ROOT"):
        env.pop(name, None)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 900) -> tuple[float, str]:
    """Run a `backbone` management command; return its wall time in seconds and output."""
    started = time.perf_counter()
    result = subprocess.run(
        [*backbone_command(), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"`backbone {' '.join(args)}` failed with exit code {result.returncode}.")
    return elapsed, result.stdout
