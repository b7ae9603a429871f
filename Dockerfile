# conduct-bot as a container image (README: "Deploy to your organisation", "A container").
#
#   docker build -t conduct-bot .
#   docker volume create conduct-bot-data
#   docker run -d --name conduct-bot --restart on-failure --env-file .env \
#       -v conduct-bot-data:/data -p 127.0.0.1:8080:8080 conduct-bot
#
# .env is the file `python -m app register` writes (one KEY=VALUE per line, the key's line breaks as `\n`,
# which docker passes through verbatim and the settings read back); add COC_TRACKING_REPO and, for a first
# run, COC_DRY_RUN=1. The database lives on the /data volume: one container per volume. Serve it behind an
# HTTPS reverse proxy. `docker exec conduct-bot python -m app doctor` checks the deployment.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A plain (not editable) install: templates, the heat model and app.yml ship inside the distribution, so
# nothing of the source tree is needed at run time and it is removed.
COPY . /tmp/conduct-bot
RUN pip install /tmp/conduct-bot && rm -rf /tmp/conduct-bot

# A dedicated user without a login; /data (the SQLite database) belongs to it.
RUN groupadd --system --gid 10001 conduct-bot \
    && useradd --system --uid 10001 --gid conduct-bot --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin conduct-bot \
    && mkdir -p /data /app \
    && chown conduct-bot:conduct-bot /data /app \
    && chmod 0700 /data

# The settings' defaults for a container; values from `docker run -e`/`--env-file` win.
ENV DATABASE_URL=sqlite:////data/conduct-bot.sqlite3 \
    HOST=0.0.0.0 \
    PORT=8080

VOLUME ["/data"]
# The working directory is where the server would read a .env (mounted at /app/.env) if not given --env-file.
WORKDIR /app
USER conduct-bot
EXPOSE 8080

# GET /healthz answers 200 while the store answers (503 otherwise).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/healthz', timeout=4)"]

CMD ["python", "-m", "app"]
