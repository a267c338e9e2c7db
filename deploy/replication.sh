#!/bin/sh
# Run once by the postgres image when it creates the database: let the crm role take base backups
# (pg_basebackup, a replication connection) from the app's containers on the compose network.
set -e
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
