from __future__ import annotations

import sys
from pathlib import Path

# Let the tests import their helpers whatever pytest's rootdir and import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))
