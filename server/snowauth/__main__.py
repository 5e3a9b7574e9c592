from snowauth.cli import main

raise SystemExit(main())
