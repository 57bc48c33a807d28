# One image for the API, the workers and the migration job.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY platform platform
COPY tenants tenants
COPY graphql graphql
COPY workers workers
COPY cli cli
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -c constraints.txt .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /app dianshu
COPY --from=build /venv /venv
COPY migrations /app/migrations
ENV PATH=/venv/bin:$PATH \
    DIANSHU_MIGRATIONS_DIR=/app/migrations \
    DIANSHU_PROFILE=prod \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001
EXPOSE 8000
CMD ["dianshu", "serve", "--host", "0.0.0.0", "--port", "8000"]
