"""`python -m simulators`: start every source simulator on loopback."""

from simulators.serve import main

raise SystemExit(main())
