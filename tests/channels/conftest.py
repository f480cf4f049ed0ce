"""Fixtures of the channel tests. Golden files are rewritten with `UPDATE_GOLDEN=1`."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def update_golden() -> bool:
    """True when the run should rewrite the golden files instead of comparing with them."""
    return os.environ.get("UPDATE_GOLDEN", "") not in ("", "0", "false")
