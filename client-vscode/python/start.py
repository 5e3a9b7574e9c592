"""Starts SnowAuth's language server from the libraries bundled with the VS Code extension.

The extension runs `<python> -I -S <bundled>/start.py lsp` (`--check` instead of `lsp`: the probe).
`-I` (isolated): no PYTHONPATH or other PYTHON* variable, no user site-packages, neither the working
directory nor this folder on sys.path. `-S`: no site-packages at all and no .pth file is read. So
sys.path is the standard library, and this script puts the bundle in front of it: the folder of
this Python version's native builds (cp311, cp312, …) and libs/. Nothing of the interpreter's own
site-packages (another pygls, pydantic…) nor of the workspace can be imported (SECURITY.md).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# exit statuses the extension tells apart from a crash
NOT_ISOLATED = 2
NO_BUILD = 3


def main() -> int:
    if not (sys.flags.isolated and sys.flags.no_site):
        print("start.py must run as `python -I -S start.py …`", file=sys.stderr)
        return NOT_ISOLATED
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    native = os.path.join(HERE, f"cp{sys.version_info[0]}{sys.version_info[1]}")
    if not os.path.isdir(native):
        print(f"this bundle has no build for Python {version}", file=sys.stderr)
        return NO_BUILD
    sys.path[:] = [native, os.path.join(HERE, "libs"), *(p for p in sys.path if p and os.path.isabs(p))]
    if sys.argv[1:] == ["--check"]:
        # the native parts load (a wrong platform or C library fails here, not in the editor)
        import _cffi_backend  # type: ignore[import-untyped, unused-ignore]  # noqa: F401
        import cryptography.hazmat.bindings._rust  # noqa: F401
        import pydantic_core  # noqa: F401

        import snowauth

        print(f"snowauth {snowauth.__version__} on Python {version}")
        return 0
    import runpy

    sys.argv = [sys.argv[0], *sys.argv[1:]]
    runpy.run_module("snowauth", run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
