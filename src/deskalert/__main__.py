from deskalert.cli import main

raise SystemExit(main())
