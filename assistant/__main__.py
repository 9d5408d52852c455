"""`python -m assistant` is the `assistant` command."""

import sys

from .fronts.cli import main

sys.exit(main())
