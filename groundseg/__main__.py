"""``python -m groundseg``: the same as the ``groundseg`` command."""
import sys

from .cli import main

sys.exit(main())
