# kepu-ledger: migrate, import the seed, serve on 0.0.0.0:8000 as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    KEPU_DATA_DIR=/var/lib/kepu

RUN useradd --create-home --uid 10001 kepu \
 && mkdir -p /var/lib/kepu && chown kepu:kepu /var/lib/kepu
WORKDIR /srv/kepu
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
COPY seed ./seed
RUN pip install -e . && chown -R kepu:kepu /srv/kepu

USER kepu
VOLUME ["/var/lib/kepu"]
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "kepu migrate && kepu import seed/2023-work-points.txt && exec kepu serve --host 0.0.0.0 --port 8000"]
