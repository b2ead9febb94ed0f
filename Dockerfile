# kepu-ledger: migrate, import the bundled seed (once), serve on 0.0.0.0:8000 as a non-root user.

# Build kepu as a wheel: the runtime image gets a normal install, not the source tree.
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KEPU_DATA_DIR=/var/lib/kepu KEPU_SEED=/srv/kepu/seed/2023-work-points.txt

# Dependencies first, from the hash-checked lock (requirements.lock, pip-compile of
# pyproject.toml): this layer is rebuilt only when the lock changes, never for a code change.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --require-hashes --no-deps -r /tmp/requirements.lock && rm /tmp/requirements.lock

# Installed as root and owned by root: the runtime user can write only its data volume.
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels
COPY seed /srv/kepu/seed
COPY scripts/container-start /usr/local/bin/kepu-container-start

RUN useradd --create-home --uid 10001 kepu \
 && mkdir -p /var/lib/kepu && chown kepu:kepu /var/lib/kepu
USER kepu
WORKDIR /var/lib/kepu
VOLUME ["/var/lib/kepu"]
EXPOSE 8000
# start-period: the first start migrates, imports and builds the index before it answers.
HEALTHCHECK --start-period=60s --interval=30s --timeout=5s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["kepu-container-start"]
