"""``python -m groundseg``: the same as the ``groundseg`` command (application layer, like
:mod:`groundseg.cli`; nothing in the library imports this module)."""
import sys

from .cli import main

sys.exit(main())
