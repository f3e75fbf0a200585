"""``python -m groundseg.cli``: the same as the ``groundseg`` command."""
import sys

from . import main

sys.exit(main())
