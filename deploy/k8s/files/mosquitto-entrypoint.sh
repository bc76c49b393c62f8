#!/bin/sh
# Entry point of the eclipse-mosquitto container in compose.yaml and deploy/k8s: writes the password file
# from the MQTT_PASSWORD_<ACCOUNT> variables (a Secret, never baked into an image), adds the TLS listener when
# /mosquitto/certs holds server.crt, then runs mosquitto. Accounts and ACL: scripts/broker-config.sh.
set -eu
passwd=/mosquitto/data/passwd
umask 077
: > "$passwd.new"
for account in gateway stream api simulate rag-index viewer admin; do
    var=MQTT_PASSWORD_$(echo "$account" | tr 'a-z-' 'A-Z_')
    password=$(eval "echo \"\${$var:-}\"")
    if [ -z "$password" ]; then echo "mosquitto: $var is not set; account $account disabled" >&2; continue; fi
    mosquitto_passwd -b "$passwd.new" "$account" "$password"
done
mv "$passwd.new" "$passwd"
chown mosquitto:mosquitto "$passwd" 2>/dev/null || true
config=/mosquitto/config/mosquitto.conf
if [ -f /mosquitto/certs/server.crt ]; then
    config=/tmp/mosquitto.conf
    cat /mosquitto/config/mosquitto.conf - > "$config" <<TLS
listener 8883
cafile /mosquitto/certs/ca.crt
certfile /mosquitto/certs/server.crt
keyfile /mosquitto/certs/server.key
tls_version tlsv1.2
require_certificate ${TLS_REQUIRE_CERT:-false}
TLS
fi
exec mosquitto -c "$config"
