"""docs/security.md states the suite's counts: they must be the corpora's, and the doc linked."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumer.channel import ChannelType
from tests.hardening.conftest import RESETS
from tests.hardening.corpus import (
    AUDIT_PLACES,
    HOSTILE,
    INJECTIONS,
    POISON,
    SESSION_PLACES,
    SHELL_LEAKS,
)
from tests.hardening.test_fuzz import SCHEMAS
from tests.hardening.test_secrets import SOURCES
from tests.hardening.test_ssrf import REDIRECTS, TARGETS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "security.md").read_text()

TYPES = len(ChannelType)
PLACES = len(AUDIT_PLACES) + len(SESSION_PLACES)
AUDIT_POISON = sum(c.schema == "audit-log" for c in POISON)


@pytest.mark.parametrize(
    "claim",
    [
        f"{len(POISON)} poison records ({AUDIT_POISON} on `audit-log`, "
        f"{len(POISON) - AUDIT_POISON} on `hosted-auth-sessions`)",
        f"Plus {len(HOSTILE)} **hostile but valid records**",
        f"stays silent ({sum(c.expect == 'silent' for c in HOSTILE)}) or unrouted "
        f"({sum(c.expect == 'unrouted' for c in HOSTILE)})",
        f"{len(INJECTIONS)} injections",
        f"in {PLACES} places",
        f"{len(INJECTIONS) * PLACES} placements",
        f"({len(INJECTIONS) * PLACES * TYPES:,} payloads)".replace(",", " "),
        f"{2 * len(INJECTIONS)} records, {2 * len(INJECTIONS) * TYPES} posted bodies",
        f"{3 * TYPES} damaged bodies",
        f"{len(SHELL_LEAKS)} metadata shapes",
        f"none of the {len(SHELL_LEAKS) * TYPES} posted bodies",
        f"covers {len(SOURCES)} captured sources",
        f"{len(TARGETS)} targets",
        f"({sum(t.gate == 'policy' for t in TARGETS)} by the policy; "
        f"{sum(t.gate == 'connect' for t in TARGETS)} names",
        f"for each of the {TYPES} types ({len(REDIRECTS) * TYPES})",
        f"then resets {RESETS} connections",
        f"{3 * len(SCHEMAS) + 3} properties",
    ],
)
def test_the_doc_states_the_suites_counts(claim: str) -> None:
    assert claim in " ".join(DOC.split()), claim


def test_the_readme_links_the_doc_from_its_security_section() -> None:
    readme = (ROOT / "README.md").read_text()
    security = readme.split("\n## Security\n", 1)[1]
    assert "[docs/security.md](docs/security.md)" in security
