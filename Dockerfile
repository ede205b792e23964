# syntax=docker/dockerfile:1
# Build stage: the pinned dependencies and the project, in a virtualenv copied whole to the image.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
# Editable, so the code stays in /app beside alembic.ini, migrations/ and seed/ that it reads.
RUN /opt/venv/bin/pip install -c constraints.txt -e .

# Run stage: no compilers or caches; an unprivileged user; settings from the environment.
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MONOGRAPH_HOST=0.0.0.0 \
    MONOGRAPH_PORT=8000 \
    MONOGRAPH_WORKERS=2 \
    MONOGRAPH_DATABASE_URL=sqlite:////app/var/monograph.db \
    MONOGRAPH_SEED_DIR=/app/seed
RUN useradd --system --uid 10001 --home-dir /app --no-create-home monograph
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY alembic.ini ./
COPY migrations ./migrations
COPY seed ./seed
COPY docker/entrypoint.sh /usr/local/bin/entrypoint.sh
RUN mkdir var && chown monograph:monograph var
# Numeric, so a runtime can tell without reading /etc/passwd that it is not root.
USER 10001
EXPOSE 8000
# Slim images have no curl: Python asks /readyz (a dataset is loaded and the database answers).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('MONOGRAPH_PORT', '8000') + '/readyz', timeout=4)"]
ENTRYPOINT ["entrypoint.sh"]
