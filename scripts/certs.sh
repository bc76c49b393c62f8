#!/usr/bin/env bash
# `make certs`: a local certificate authority and the certificates signed by it, for the broker's TLS
# listener (mqtts://, port 8883), nginx's HTTPS in front of api and Grafana, and one client certificate per
# broker account (for brokers that demand one: TLS_REQUIRE_CERT=true in scripts/broker-config.sh).
#
#   scripts/certs.sh [DIR]      default deploy/certs (git-ignored)
#
# Writes DIR/ca.crt + ca.key (10 years), DIR/server.crt + server.key (825 days, the most browsers accept) for
# localhost, 127.0.0.1 and the compose/Kubernetes service names, and DIR/clients/<account>.crt + .key.
# An existing CA is kept, so certificates already handed out stay valid; the leaf certificates are renewed.
# Environment: CERT_HOSTS extra DNS names for the server certificate (space-separated, e.g. a public name),
# CERT_DAYS leaf lifetime in days (825). Keys are ECDSA P-256: fast to make, accepted by every TLS client.
set -euo pipefail

dir=${1:-deploy/certs}
days=${CERT_DAYS:-825}
mkdir -p "$dir/clients"
umask 077

if [ ! -f "$dir/ca.key" ] || [ ! -f "$dir/ca.crt" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -nodes -days 3650 \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" -subj "/O=Shopfloor/CN=Shopfloor local CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    echo "certs: new CA $dir/ca.crt"
fi

# Signs a leaf certificate: name, subject CN, extendedKeyUsage, optional subjectAltName.
sign() {
    local name=$1 cn=$2 usage=$3 san=${4:-}
    local ext
    ext=$(mktemp)
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature"
        echo "extendedKeyUsage=$usage"
        [ -n "$san" ] && echo "subjectAltName=$san"
    } > "$ext"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -nodes -keyout "$name.key" -out "$name.csr" -subj "/O=Shopfloor/CN=$cn" 2>/dev/null
    openssl x509 -req -in "$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days "$days" \
        -sha256 -extfile "$ext" -out "$name.crt" 2>/dev/null
    rm -f "$name.csr" "$ext"
}

san="DNS:localhost,IP:127.0.0.1,IP:::1"
for host in mosquitto emqx nginx api grafana shopfloor.local mosquitto.shopfloor.svc mosquitto.shopfloor.svc.cluster.local ${CERT_HOSTS:-}; do
    san="$san,DNS:$host"
done
hosts=(${CERT_HOSTS:-localhost})
sign "$dir/server" "${hosts[0]}" serverAuth "$san"
for account in gateway stream api simulate rag-index viewer admin; do
    sign "$dir/clients/$account" "$account" clientAuth
done
# Servers in containers run as other users: the public parts and the server key must be readable by them.
chmod 644 "$dir/ca.crt" "$dir/server.crt" "$dir/clients/"*.crt
chmod 640 "$dir/server.key"
openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" "$dir/clients/viewer.crt" > /dev/null
echo "certs: server and client certificates in $dir (CA: $dir/ca.crt)"
