"""`python -m phonebank ...`: the same program as the `phonebank` command."""

import sys

from phonebank.cli import main

sys.exit(main())
