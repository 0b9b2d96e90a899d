# newswatch as a container: `docker build -t newswatch .`, then see deploy/compose.yaml.
# Config is read from /etc/newswatch (a volume), state written to /var/lib/newswatch.

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY daemon ./daemon
COPY deploy/constraints.txt ./deploy/constraints.txt
RUN python -m venv /opt/newswatch/venv \
    && /opt/newswatch/venv/bin/pip install --no-cache-dir --constraint deploy/constraints.txt .

FROM python:3.11-slim-bookworm
COPY --from=build /opt/newswatch/venv /opt/newswatch/venv
COPY config/newswatch.yaml /etc/newswatch/newswatch.yaml
RUN install -d -m 0700 -o 10001 -g 10001 /var/lib/newswatch \
    && install -d -m 0750 -o 10001 -g 10001 /var/lib/newswatch/seeds
ENV PATH=/opt/newswatch/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    NEWSWATCH_CONFIG=/etc/newswatch/newswatch.yaml
USER 10001:10001
WORKDIR /var/lib/newswatch
VOLUME ["/var/lib/newswatch"]
# the status endpoint: set `http: {listen: "0.0.0.0:9464"}` in the config to publish it
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["newswatch", "--log-format", "json"]
CMD ["run"]
