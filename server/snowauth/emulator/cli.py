"""``snowauth emulator`` / ``python -m snowauth.emulator``: serve until SIGINT/SIGTERM.

While it runs, the emulator is registered in the user's config folder: the one loopback
address snowauth sends credentials to without asking (see snowauth.trust)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from snowauth.emulator.config import ConfigError, EmulatorConfig, default_config, load_config
from snowauth.emulator.server import Emulator
from snowauth.terminal import printable

MODES = ("hibernating", "rate-limited", "flaky", "slow")


class _PrintableFormatter(logging.Formatter):
    """Log lines with control characters escaped: a request path is chosen by whoever
    sends the request, and the log goes to the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), keep_lines=True)


DEMO_CREDENTIALS = """\
The built-in demo instance (without --config); well-known demo values, never use them anywhere real:
  client (password, client credentials, authorization code, refresh token grants):
    client_id     = "0123456789abcdef0123456789abcdef"
    client_secret = "demo-client-secret"
    redirect URI    http://127.0.0.1:53682/callback (or http://localhost:53682/callback)
  public client (PKCE, no secret):
    client_id     = "fedcba9876543210fedcba9876543210"
  the ServiceNow SDK's public client (every instance): client_id = "543e5655f77746a28228c6009a599dfb",
    redirect /sdk-oauth.do (the page shows the code to paste)
  users: integration.user / demo-password, admin / admin-password (the admin role: the Table API
    over oauth_entity, sys_user, sys_properties and syslog, with HTTP Basic);
    locked.user and inactive.user fail as ServiceNow does; web.only has no interactive sign-in
  client credentials run as svc.integration (the grant is off: client_credentials_enabled = false)

A connection for it, with the URL it prints:
  [connections.demo]
  instance = "http://127.0.0.1:PORT"
  grant_type = "password"
  client_id = "0123456789abcdef0123456789abcdef"
  client_secret = "${env:SNOW_DEMO_CLIENT_SECRET}"   # demo-client-secret
  username = "integration.user"
  password = "${prompt}"                             # demo-password

Examples:
  # the demo instance on http://127.0.0.1:8080
  snowauth emulator --port 8080
  # an instance that answers as a hibernating developer instance does
  snowauth emulator --mode hibernating
  # the next two token requests fail with HTTP 503
  snowauth emulator --mode flaky --flaky-failures 2
  # HTTPS with your own clients and users, each request logged
  snowauth emulator --cert cert.pem --key key.pem --config instance.toml -v

Exit status: 0 stopped by Ctrl-C or SIGTERM, 1 it could not start (the port is
taken, the certificate cannot be read), 2 a usage or config error.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snowauth emulator",
        description="A local ServiceNow instance emulator (OAuth token, authorize, revoke\n"
        "and REST endpoints) for demos and tests. Stop it with Ctrl-C.",
        epilog=DEMO_CREDENTIALS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port", type=int, default=0, help="port to bind; 0 picks a free one, printed at start (default: %(default)s)"
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="emulator config TOML: clients, users, properties (default: the built-in demo instance below; "
        "the format is described at the top of snowauth/emulator/default.toml)",
    )
    parser.add_argument(
        "--cert", metavar="FILE", help="TLS certificate chain (PEM), with --key: serve HTTPS (default: plain HTTP)"
    )
    parser.add_argument("--key", metavar="FILE", help="TLS private key (PEM), with --cert (default: none)")
    parser.add_argument(
        "--mode",
        action="append",
        choices=MODES,
        default=[],
        help="start in a failure mode; repeatable (default: none, a healthy instance)",
    )
    parser.add_argument(
        "--retry-after",
        type=int,
        default=1,
        metavar="SECONDS",
        help="the Retry-After of rate-limited mode (default: %(default)s)",
    )
    parser.add_argument(
        "--flaky-failures",
        type=int,
        default=None,
        metavar="N",
        help="for flaky: fail only the next N token requests (default: all)",
    )
    parser.add_argument(
        "--slow", type=float, default=2.0, metavar="SECONDS", help="delay of slow mode (default: %(default)s)"
    )
    parser.add_argument(
        "--auto-approve",
        metavar="USER",
        help="approve /oauth_auth.do at once as USER instead of showing the login form "
        "(default: the config's auto_approve_user, else the login form)",
    )
    parser.add_argument(
        "--client-ca",
        metavar="PEM",
        help="require a client certificate issued by a CA of this PEM file (mutual TLS; needs --cert; "
        "default: no client certificate asked for)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr (default: off)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if (args.cert is None) != (args.key is None):
        print("snowauth emulator: --cert and --key go together", file=sys.stderr)
        return 2
    if args.client_ca is not None and args.cert is None:
        print("snowauth emulator: --client-ca needs --cert and --key (mutual TLS is TLS)", file=sys.stderr)
        return 2
    try:
        config: EmulatorConfig = load_config(args.config) if args.config else default_config()
    except ConfigError as exc:
        print(f"snowauth emulator: {printable(str(exc))}", file=sys.stderr)
        return 2
    approver = args.auto_approve if args.auto_approve is not None else config.auto_approve_user
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        for handler in logging.getLogger().handlers:
            handler.setFormatter(_PrintableFormatter("%(asctime)s %(message)s"))
    try:
        emulator = Emulator(
            config,
            host=args.host,
            port=args.port,
            certfile=args.cert,
            keyfile=args.key,
            auto_approve_user=approver,
            client_ca=args.client_ca,
        )
        emulator.set_mode(
            hibernating="hibernating" in args.mode or None,
            rate_limited="rate-limited" in args.mode or None,
            retry_after=args.retry_after,
            slow=args.slow if "slow" in args.mode else None,
        )
        if "flaky" in args.mode:
            if args.flaky_failures is None:
                emulator.set_mode(flaky=True)
            else:
                emulator.set_mode(flaky_failures=args.flaky_failures)
        emulator.start()
    except (ValueError, OSError) as exc:
        print(f"snowauth emulator: {printable(str(exc))}", file=sys.stderr)
        return 1

    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
    # snowauth sends to loopback addresses without asking only while this emulator runs:
    # register it in the user's config folder (see snowauth.trust), remove it when it stops
    from snowauth.trust import config_dir, register_emulator, unregister_emulator

    try:
        register_emulator(emulator.url)
    except OSError as exc:
        print(
            f"snowauth emulator: could not register in {config_dir()} ({exc.strerror or exc}); "
            "snowauth will ask before sending credentials to it",
            file=sys.stderr,
        )
    print(f"snowauth emulator listening on {emulator.url}", flush=True)
    try:
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        unregister_emulator(emulator.url)
        emulator.stop()
    return 0
