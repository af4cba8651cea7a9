# econfacts API: migrates its database, then serves on port 8000.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ECONFACTS_HOST=0.0.0.0 \
    ECONFACTS_PORT=8000 \
    ECONFACTS_DATABASE_URL=sqlite:////data/econfacts.sqlite3

WORKDIR /srv/econfacts

RUN groupadd --system --gid 10001 econfacts \
    && useradd --system --uid 10001 --gid econfacts --home-dir /srv/econfacts econfacts \
    && mkdir -p /data \
    && chown econfacts:econfacts /data

COPY pyproject.toml README.md alembic.ini requirements-nlp.txt ./
COPY app ./app
COPY migrations ./migrations
COPY tests/data/corpus ./tests/data/corpus
# Bytecode compiled now: with PYTHONDONTWRITEBYTECODE every start would compile app/ anew.
RUN pip install --no-cache-dir -e . \
    && pip install --no-cache-dir --no-deps --require-hashes -r requirements-nlp.txt \
    && python -m compileall -q app migrations

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"]

CMD ["sh", "-c", "econfacts db upgrade && econfacts seed && exec econfacts serve"]
