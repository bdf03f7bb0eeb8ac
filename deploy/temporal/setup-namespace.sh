#!/bin/sh
# The namespace and Tidemark's search attributes, for the compose file's temporal-setup job; each is
# created only when missing, so the job can run on every `up`.
set -eu
namespace="${TEMPORAL_NAMESPACE:-default}"
tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "Temporal at ${TEMPORAL_ADDRESS:-?} is not healthy" >&2; exit 1; }
  sleep 2
done
temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$namespace" --retention 30d
existing=$(temporal operator search-attribute list --namespace "$namespace")
for attribute in TidemarkHost:Keyword TidemarkServer:Keyword TidemarkStatus:Keyword TidemarkBytes:Int; do
  name=${attribute%%:*}
  printf '%s\n' "$existing" | grep -qw "$name" ||
    temporal operator search-attribute create --namespace "$namespace" --name "$name" --type "${attribute#*:}"
done
