FROM python:3.11-slim-bookworm

# pg_dump / pg_restore must be the major version of the server in docker-compose.yml (and of the
# embedded server `make test` runs the test suite against): PostgreSQL's own Debian repository.
ARG PG_MAJOR=18
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 STATIC_MANIFEST=1
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates gnupg \
 && echo "deb http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc | gpg --dearmor -o /etc/apt/trusted.gpg.d/pgdg.gpg \
 && apt-get update && apt-get install -y --no-install-recommends postgresql-${PG_MAJOR} \
 && apt-get purge -y gnupg && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The runtime set only (no test tools, no embedded servers), every file checked against its hash.
COPY requirements.txt .
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY . .
RUN pybabel compile -d locale -D django \
 && SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput \
 && useradd --system --uid 10001 --home /app crm \
 && mkdir -p /backups /attachments && chown crm /backups /attachments
# Not root: the application cannot rewrite its own code or the system.
USER crm
ENV PG_BIN_DIR=/usr/lib/postgresql/${PG_MAJOR}/bin BACKUP_DIR=/backups MEDIA_ROOT=/attachments
EXPOSE 8000
