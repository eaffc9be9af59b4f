# CardioPortal application image: gunicorn serving portal.wsgi:app (the portal and its job worker) on port 8000.
#
# The whole source tree is copied to /app and installed in editable mode, because the app finds
# templates/, static/, migrations/ and alembic.ini relative to the portal package
# (portal.config.PROJECT_ROOT = parent of portal/ = /app).
#
# Build:  docker build -t cardioportal .        Run: see docker-compose.yml
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CARDIO_ENV=production \
    INSTANCE_DIR=/data/instance \
    STORAGE_DIR=/data/storage

# Run-time libraries for WeasyPrint (PDF reports) and fonts to render them with: DejaVu, and
# for names in Chinese, Japanese, Korean and the Indic scripts Droid Sans Fallback and Noto.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
        fonts-droid-fallback \
        fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 cardio \
    && useradd --system --uid 10001 --gid cardio --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin cardio \
    && mkdir -p /data/instance /data/storage \
    && chown -R cardio:cardio /data

WORKDIR /app

# Dependencies first (their own layer, rebuilt only when pyproject.toml or constraints.txt change).
# Only [project] dependencies: no optional extra, so no TensorFlow (`train`): the portal and its
# workers run the beat classifier's LiteRT export (ai-edge-litert).
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The source tree, owned by root and read-only for the app user.
COPY . .
RUN pip install -c constraints.txt -e . \
    && pip check \
    && python -m compileall -q portal ml reports migrations \
    && chmod 0755 docker/entrypoint.sh

USER cardio

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]

# Runs `cardio init-db`, then gunicorn (or the command given, e.g. `cardio create-user ...`).
ENTRYPOINT ["/app/docker/entrypoint.sh"]
