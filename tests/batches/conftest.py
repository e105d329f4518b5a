"""The batch tests build on the service tests' supply-chain fixture (tests/api)."""

from __future__ import annotations

import sys
from pathlib import Path

API_TESTS = str(Path(__file__).resolve().parents[1] / "api")
if API_TESTS not in sys.path:
    sys.path.append(API_TESTS)
