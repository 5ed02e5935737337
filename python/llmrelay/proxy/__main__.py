"""``python -m llmrelay.proxy``: the ``llmrelay`` command."""

import sys

from . import main

sys.exit(main())
