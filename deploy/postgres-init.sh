#!/bin/sh
# Runs once, when the PostgreSQL container initialises its data directory.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v intake_password="$INTAKE_DB_PASSWORD" -v workflow_password="$WORKFLOW_DB_PASSWORD" \
  -v notification_password="$NOTIFICATION_DB_PASSWORD" -v knowledge_password="$KNOWLEDGE_DB_PASSWORD" \
  -v gateway_password="$GATEWAY_DB_PASSWORD" -f /docker-entrypoint-initdb.d/postgres-init.sql.in
