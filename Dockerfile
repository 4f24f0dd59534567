# The Sentimon image: one image for every service (ingest, worker, dashboard, migrate), chosen by
# the command, e.g. `docker run sentimon worker`. Built by `docker compose build`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SENTIMON_DATA_DIR=/data

WORKDIR /app

# The CPU build of PyTorch first, in its own layer: the largest dependency changes least often.
# (Pass --build-arg TORCH_INDEX=https://pypi.org/simple for the default CUDA build on GPU hosts.)
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN pip install torch --index-url "${TORCH_INDEX}"

# The project and its runtime dependencies (editable, so migrations and the shipped model stay in /app).
COPY . /app
RUN pip install -e '.[oidc]' \
 && useradd --system --uid 10001 --home-dir /app sentimon \
 && mkdir -p /data \
 && chown sentimon /data

USER sentimon
EXPOSE 8080 8501 9108
ENTRYPOINT ["sentimon"]
CMD ["--help"]
