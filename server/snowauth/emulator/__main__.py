"""``python -m snowauth.emulator``."""

from __future__ import annotations

from snowauth.emulator.cli import main

raise SystemExit(main())
