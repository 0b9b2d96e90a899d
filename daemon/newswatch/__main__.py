from newswatch.cli import main

raise SystemExit(main())
