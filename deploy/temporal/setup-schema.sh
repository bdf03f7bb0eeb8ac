#!/bin/sh
# Temporal's two PostgreSQL databases and their schema, for the compose file's temporal-schema job.
# Safe to run again: existing databases are kept, and update-schema only applies missing versions.
set -eu
sql() { temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u temporal "$@"; }
tries=0
until nc -z -w 10 postgresql 5432; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "PostgreSQL does not answer on postgresql:5432" >&2; exit 1; }
  sleep 2
done
for db in temporal temporal_visibility; do
  sql --db "$db" create || echo "database $db exists already"
done
sql --db temporal setup-schema -v 0.0
sql --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
sql --db temporal_visibility setup-schema -v 0.0
sql --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
