#!/usr/bin/env bash
# Writes the secrets compose.yaml and deploy/k8s read: one broker password per account, the PostgreSQL owner,
# Grafana's read-only database user and Grafana's admin. Existing values are kept (delete a line to rotate it).
#
#   scripts/compose-env.sh [FILE]     default deploy/secrets/compose.env (git-ignored)
#   docker compose --env-file deploy/secrets/compose.env up -d
#   kubectl -n shopfloor create secret generic shopfloor-secrets --from-env-file=deploy/secrets/compose.env
set -euo pipefail

file=${1:-deploy/secrets/compose.env}
mkdir -p "$(dirname "$file")"
umask 077
# shellcheck disable=SC1090
[ -f "$file" ] && source "$file"
names=(MQTT_PASSWORD_GATEWAY MQTT_PASSWORD_STREAM MQTT_PASSWORD_API MQTT_PASSWORD_SIMULATE MQTT_PASSWORD_RAG_INDEX
       MQTT_PASSWORD_VIEWER MQTT_PASSWORD_ADMIN POSTGRES_PASSWORD GRAFANA_DB_PASSWORD GRAFANA_ADMIN_PASSWORD
       EMQX_DASHBOARD_PASSWORD)
{
    echo "# Shopfloor secrets written by scripts/compose-env.sh; keep this file private."
    for name in "${names[@]}"; do
        # Hex: safe inside mqtt:// and postgres:// URLs without percent-encoding.
        [ -n "${!name:-}" ] || printf -v "$name" '%s' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
        echo "$name=${!name}"
    done
} > "$file.new"
mv "$file.new" "$file"
echo "secrets in $file"
