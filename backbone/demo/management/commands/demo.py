import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from backbone.demo import seed


class Command(BaseCommand):
    help = "Migrate, load the demo network, print the logins and serve on 127.0.0.1:$PORT."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=["small", "medium", "state"], default="small")
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Prepare the demo and print the logins, but do not serve.",
        )

    def handle(self, *args, size: str, port: str, no_serve: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed", size=size)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        self.print_logins(port)
        if not no_serve:
            self.serve(port)

    def print_logins(self, port: str) -> None:
        from allauth.mfa.totp.internal.auth import (
            format_hotp_value,
            hotp_value,
            yield_hotp_counters_from_time,
        )

        code = format_hotp_value(
            hotp_value(seed.DEMO_TOTP_SECRET, next(yield_hotp_counters_from_time()))
        )
        write = self.stdout.write
        write("")
        write(self.style.SUCCESS(f"Backbone demo: http://127.0.0.1:{port}/"))
        write(f"Every demo login uses the password: {seed.DEMO_PASSWORD}")
        for _role, local, label in seed.DEMO_LOGINS:
            write(f"  {label:<32} {local}@{seed.DEMO_DOMAIN}")
        write("The network admin also needs a two-factor code: add the TOTP secret")
        write(f"  {seed.DEMO_TOTP_SECRET} to an authenticator app, or run")
        write(f"  .venv/bin/backbone demo_totp   (the code right now is {code})")
        write("The public profile is open without a login.")
        write("")

    def serve(self, port: str) -> None:
        """Run the web server and a task worker until Ctrl-C or SIGTERM, then stop both."""
        processes = [
            subprocess.Popen(  # noqa: S603 (fixed arguments, no user input)
                [
                    sys.executable,
                    "-m",
                    "backbone",
                    "db_worker",
                    "--queue-name",
                    "default",
                    "--no-reload",
                ]
            ),
            subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "backbone.config.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "3",
                    "--no-control-socket",
                    "--access-logfile",
                    "-",
                ]
            ),
        ]

        def stop(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        try:
            processes[1].wait()
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
