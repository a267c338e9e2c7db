FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 STATIC_MANIFEST=1
# pg_dump / pg_restore must match the server (PostgreSQL 16): PostgreSQL's own Debian repository.
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates gnupg \
 && echo "deb http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
 && curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc | gpg --dearmor -o /etc/apt/trusted.gpg.d/pgdg.gpg \
 && apt-get update && apt-get install -y --no-install-recommends postgresql-client-16 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN pybabel compile -d locale -D django \
 && SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput \
 && useradd --system --home /app crm && mkdir -p /backups && chown crm /backups
USER crm
ENV PG_BIN_DIR=/usr/lib/postgresql/16/bin BACKUP_DIR=/backups
EXPOSE 8000
