# The platform image: one process per container; scale with replicas or --workers.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml constraints.txt README.md LICENSE ./
COPY platform ./platform
RUN pip install -c constraints.txt '.[otel]' && useradd --create-home app
USER app
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
CMD ["sh", "-c", "ai-platform db upgrade && exec gunicorn ai_platform.gateway.app:app -k uvicorn_worker.UvicornWorker -w ${WORKERS:-2} -b 0.0.0.0:8000"]
