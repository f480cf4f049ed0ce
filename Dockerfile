# syntax=docker/dockerfile:1
# transcodes-webhooks: the `webhook-consumer` service image.
#
#   docker build -t transcodes-webhooks:0.1.0 .
#   docker run --rm transcodes-webhooks:0.1.0 --help
#
# Two stages on the same pinned base: `build` installs the package and its runtime dependencies
# (exact versions from constraints.txt, no dev extras) into /opt/venv; `runtime` copies only that
# venv. The runtime stage has no compiler, no pip cache and no source tree, runs as uid 10001 and
# writes nothing (it runs with a read-only root filesystem on Kubernetes; /tmp is an emptyDir).
#
# The base is pinned to a patch version. When you publish, pin it by digest too, with the digest
# your registry reports for this tag:
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm --format '{{json .Manifest.Digest}}'
#   FROM python:3.11.14-slim-bookworm@sha256:<digest> AS build   (same digest in both stages)
# tests/test_dockerfile.py checks the rules above; docs/operations.md ("Image") says how to build.

FROM python:3.11.14-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Dependencies first, so a code-only change reuses this layer.
COPY constraints.txt pyproject.toml README.md ./
COPY consumer/ consumer/
# Runtime dependencies only (no [dev] extra), each at the version in constraints.txt.
RUN pip install --no-cache-dir -c constraints.txt . \
    && pip check \
    && webhook-consumer --version


FROM python:3.11.14-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="transcodes-webhooks" \
      org.opencontainers.image.description="Kafka consumer that turns Transcodes audit and hosted-auth session events into chat notifications" \
      org.opencontainers.image.version="0.1.0"

# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it without a passwd lookup.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /tmp
USER 10001:10001

# /metrics, /livez, /readyz on HTTP_PORT's default. No HEALTHCHECK: Kubernetes probes those endpoints.
EXPOSE 8080

ENTRYPOINT ["webhook-consumer"]
CMD ["run"]
