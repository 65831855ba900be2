"""``python -m viz``: the ``chaingrad`` command without the console script."""

import sys

from .cli import main

sys.exit(main())
