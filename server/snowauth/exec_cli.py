"""`snowauth exec FILE [--connection NAME] -- COMMAND [ARGS…]`: obtain a token as
`snowauth token` does (the same terminal adapter of the token workflow, :mod:`snowauth.token_cli`),
then run COMMAND with the token and the instance in its environment (never in its argv):

====================================  =================================================
``SNOWAUTH_INSTANCE_URL``             the instance's base URL, e.g. https://dev12345.service-now.com
``SNOWAUTH_ACCESS_TOKEN``             the access token
``SNOWAUTH_AUTHORIZATION``            ``Bearer <token>``, an `Authorization` header's value
``SN_SDK_INSTANCE_URL``,              the ServiceNow SDK's pre-authenticated session
``SN_SDK_SESSION_BEARER_TOKEN``       (``now-sdk`` then needs no ``now-sdk auth``)
====================================  =================================================

COMMAND gets snowauth's stdin, stdout and stderr and runs in its process group, so a
terminal's Ctrl-C reaches it directly; a SIGINT, SIGTERM, SIGHUP or SIGQUIT sent to snowauth
alone is passed on to it. snowauth waits for it and exits with its status (128 + N when a
signal N ended it, as shells report). Why a child and not an exec of COMMAND:
docs/decisions.md.

Exit statuses of its own: 2 no token could be had (COMMAND is not run) or a usage error,
126 COMMAND cannot be run, 127 COMMAND not found, 130 Ctrl-C before COMMAND started.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence

from snowauth.check import plain_text
from snowauth.terminal import printable
from snowauth.token_cli import CannotPrint, NoToken, get_token, print_failure, render

EXIT_NO_TOKEN = 2
EXIT_CANNOT_RUN = 126  # as shells report a command that is found but cannot be run
EXIT_NOT_FOUND = 127
# passed on to COMMAND when sent to snowauth alone; snowauth itself never dies of them
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# a signal the kernel sends itself: the terminal's Ctrl-C, Ctrl-\ and hang-up, which go to
# the whole foreground process group, COMMAND included (Linux's SI_KERNEL)
_SI_KERNEL = 0x80
# the SDK's basic-auth session variables: COMMAND must not inherit them (a stale pair
# would describe another session; `now-sdk auth --format env` unsets them as well)
REMOVED = ("SN_SDK_SESSION_TOKEN", "SN_SDK_SESSION_COOKIE")


def child_environment(base: Mapping[str, str], instance_url: str, access_token: str) -> dict[str, str]:
    """``base`` with the token's variables set (over any value it held) and the SDK's
    basic-auth session variables removed."""
    env = {k: v for k, v in base.items() if k not in REMOVED}
    env.update(
        {
            "SNOWAUTH_INSTANCE_URL": instance_url,
            "SNOWAUTH_ACCESS_TOKEN": access_token,
            "SNOWAUTH_AUTHORIZATION": f"Bearer {access_token}",
            "SN_SDK_INSTANCE_URL": instance_url,
            "SN_SDK_SESSION_BEARER_TOKEN": access_token,
        }
    )
    return env


def exit_status(wait_status: int) -> int:
    """A shell's exit status for a child's wait status: its code, or 128 + the signal."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def run_exec(file: str, connection: str | None, command: Sequence[str]) -> int:
    program = find_program(command[0], os.environ)
    if program is None:  # said before any grant runs (a browser sign-in, a password)
        print(f"snowauth: {printable(command[0])}: command not found", file=sys.stderr)
        return EXIT_NOT_FOUND
    try:
        got = get_token(file, connection)
        # the checks of `snowauth token --format header`: a stored token that a header (or
        # an environment variable) cannot carry is refused, not handed on
        render(got.tokens, got.connection.name, "header")
    except NoToken as failure:
        print_failure(failure)
        return failure.status if failure.status == 130 else EXIT_NO_TOKEN
    except CannotPrint as exc:
        print(f"snowauth: {printable(plain_text(str(exc)))}", file=sys.stderr)
        return EXIT_NO_TOKEN
    env = child_environment(os.environ, got.instance_url, got.tokens.access_token)
    return run_child(program, command, env)


def find_program(name: str, env: Mapping[str, str]) -> str | None:
    """The file to run for COMMAND's first word, searched in ``env``'s PATH as a shell
    does (a name with a slash is taken as it is); None when there is none."""
    if os.sep in name:
        return name
    return shutil.which(name, path=env.get("PATH", os.defpath))


def run_child(program: str, command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run ``program`` with argv ``command`` and ``env``, passing on the signals of
    :data:`FORWARDED`; its exit status as a shell reports it."""
    sys.stdout.flush()
    sys.stderr.flush()
    # A signal snowauth was started with ignored (`nohup`) stays ignored for the child,
    # as a shell leaves it, and is not passed on.
    ignored = {s for s in FORWARDED if signal.getsignal(s) == signal.SIG_IGN}
    # The signals are blocked from before the child starts until it has ended, and taken
    # with sigtimedwait: none can end snowauth first, none is lost in between. The child
    # starts with none blocked and the others at their default actions (posix_spawn's
    # attributes; Python ignores SIGPIPE and SIGXFSZ, the child gets them back).
    watched = {*FORWARDED, signal.SIGCHLD}
    defaults = (watched - ignored) | {signal.SIGPIPE, signal.SIGXFSZ}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    try:
        try:
            pid = os.posix_spawn(program, list(command), dict(env), setsigmask=(), setsigdef=defaults)
        except FileNotFoundError:
            print(f"snowauth: {printable(command[0])}: command not found", file=sys.stderr)
            return EXIT_NOT_FOUND
        except OSError as exc:
            reason = printable(str(exc.strerror or exc))
            print(f"snowauth: {printable(command[0])}: cannot run it: {reason}", file=sys.stderr)
            return EXIT_CANNOT_RUN
        return _wait(pid, watched, ignored)
    finally:
        while signal.sigtimedwait(watched, 0) is not None:
            pass  # what arrived after the child ended concerned the child
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _wait(pid: int, watched: set[signal.Signals], ignored: set[signal.Signals]) -> int:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return exit_status(status)
        # a timeout as well: a SIGCHLD merged with an earlier one is not waited for forever
        info = signal.sigtimedwait(watched, 1.0)
        if info is None or info.si_signo == signal.SIGCHLD or info.si_signo in ignored:
            continue
        if info.si_code == _SI_KERNEL:
            continue  # the terminal sent it to the child as well
        with contextlib.suppress(ProcessLookupError):  # it has just ended: waitpid collects it
            os.kill(pid, info.si_signo)
