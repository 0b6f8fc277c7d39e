# One image for every role: the gateway, a service process (serve --services …), the
# research worker, the simulator, the migration job and the first-admin-key bootstrap.
# The role is the container's command; see docs/deploy.md.
#
#   docker build -t ai-platform .                          # from python:3.11-slim and PyPI
#   docker build --build-arg BASE_IMAGE=my/bookworm \
#                --build-arg WHEELS=deploy/wheels -t ai-platform .   # offline, from wheels
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# A directory in the build context holding pre-built wheels (`pip wheel -c constraints.txt
# -w deploy/wheels '.[otel]'`); with no wheel in it, packages come from PyPI.
ARG WHEELS=deploy/wheels

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    PROMETHEUS_MULTIPROC_DIR=/var/lib/ai-platform/metrics \
    DATA_DIR=/var/lib/ai-platform/data

# python:3.11-slim has Python (in /usr/local); a bare Debian bookworm gets it from apt.
# Either way the platform lives in its own venv, so both bases install the same way.
RUN if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 python3-venv \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv

WORKDIR /app
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY platform ./platform
COPY ${WHEELS} /tmp/wheels/
RUN if ls /tmp/wheels/*.whl >/dev/null 2>&1; then \
        pip install --no-index --find-links /tmp/wheels -c constraints.txt \
            'ai-platform-workbench[otel]'; \
    else \
        pip install -c constraints.txt '.[otel]'; \
    fi \
    && rm -rf /tmp/wheels \
    && ai-platform --help >/dev/null

# Non-root; the process writes only its metrics files and the ledger's log (DATA_DIR).
RUN useradd --system --create-home --uid 10001 --home-dir /home/app app \
    && mkdir -p "$PROMETHEUS_MULTIPROC_DIR" "$DATA_DIR" \
    && chown -R app:app /var/lib/ai-platform
USER app

EXPOSE 8000
# No HEALTHCHECK here: only the HTTP roles can answer one, so each container declares
# its own (docker-compose.yml, kubernetes/).
CMD ["ai-platform", "serve", "--host", "0.0.0.0", "--port", "8000"]
