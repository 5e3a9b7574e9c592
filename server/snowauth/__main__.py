import os
import sys

# `python -m snowauth` puts the working directory first on sys.path: started in a cloned repository
# (an editor starting the server in the project folder, or `python -m snowauth check` there), its
# `pygls/` or `httpx.py` would be imported instead of the real ones. Drop that entry, unless this
# package itself was found there (a source checkout). Nothing to do under -P / PYTHONSAFEPATH.
if (
    not sys.flags.safe_path
    and sys.path
    and os.path.realpath(sys.path[0] or os.curdir) == os.path.realpath(os.curdir)
    and os.path.realpath(os.curdir) != os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
):
    del sys.path[0]

from snowauth.cli import main

raise SystemExit(main())
