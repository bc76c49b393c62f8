#!/bin/sh
# Entry point of the EMQX container (compose.yaml, profile `emqx`): the same accounts and ACL as mosquitto.
#  - users: the MQTT_PASSWORD_<ACCOUNT> variables become an EMQX built-in-database bootstrap file (EMQX hashes
#    them, sha256 with a salt). EMQX imports it only into an empty user table: to rotate a password later, use
#    `emqx ctl` or the dashboard, or remove the emqx-data volume (docs/deploy.md).
#  - ACL: the mosquitto ACL (scripts/broker-config.sh, mounted read-only) translated rule by rule into EMQX's
#    file authorizer; anything no rule allows is denied. EMQX authorizes `$share/<group>/t` as `t`, like
#    mosquitto, so stream workers' shared subscriptions need no extra rule.
# Then it runs the image's own entry point with the container's command.
#
# Environment (besides MQTT_PASSWORD_*): SHOPFLOOR_ACL (the mosquitto ACL, /opt/emqx/etc/shopfloor/acl),
# SHOPFLOOR_OUT (where the generated files go, /tmp/shopfloor: not the data volume, the bootstrap file holds
# plain passwords).
set -eu
acl=${SHOPFLOOR_ACL:-/opt/emqx/etc/shopfloor/acl}
out=${SHOPFLOOR_OUT:-/tmp/shopfloor}
umask 077
mkdir -p "$out"

users=$out/users.csv
echo "user_id,password,is_superuser" > "$users"
for account in gateway stream api simulate rag-index viewer admin; do
    var=MQTT_PASSWORD_$(echo "$account" | tr 'a-z-' 'A-Z_')
    password=$(eval "echo \"\${$var:-}\"")
    if [ -z "$password" ]; then echo "emqx: $var is not set; account $account disabled" >&2; continue; fi
    case $password in *,*|*\"*) echo "emqx: $var contains a comma or a quote; account $account disabled" >&2; continue;; esac
    echo "$account,$password,false" >> "$users"
done

[ -r "$acl" ] || { echo "emqx: no ACL at $acl" >&2; exit 1; }
# mosquitto: `user NAME`, then `topic read|write|readwrite FILTER` lines. EMQX: one Erlang term per rule.
awk '
    /^user / { user = $2; next }
    /^topic / {
        if (user == "") { printf "emqx: a topic rule before any user: %s\n", $0 > "/dev/stderr"; exit 1 }
        action = ($2 == "read") ? "subscribe" : ($2 == "write") ? "publish" : ($2 == "readwrite") ? "all" : ""
        if (action == "" || NF != 3) { printf "emqx: cannot translate ACL line %d: %s\n", NR, $0 > "/dev/stderr"; exit 1 }
        printf "{allow, {username, \"%s\"}, %s, [\"%s\"]}.\n", user, action, $3
    }
    END { print "{deny, all}." }
' "$acl" > "$out/acl.conf"

export EMQX_AUTHENTICATION="[{mechanism = password_based, backend = built_in_database, user_id_type = username,
  password_hash_algorithm {name = sha256, salt_position = suffix},
  bootstrap_file = \"$users\", bootstrap_type = plain}]"
export EMQX_AUTHORIZATION__NO_MATCH=deny
export EMQX_AUTHORIZATION__SOURCES="[{type = file, enable = true, path = \"$out/acl.conf\"}]"
exec "$@"
