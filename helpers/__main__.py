"""`python -m helpers` is the `course` command."""

import sys

from helpers.cli import main

sys.exit(main())
