#!/usr/bin/env bash
# Generates a test CA, a broker certificate and client certificates with openssl.
#
#   deploy/mosquitto/gen-certs.sh OUTDIR [HOST] [CLIENT...]
#
# OUTDIR/ca.pem, ca.key              the CA (keep ca.key offline in a real deployment)
# OUTDIR/server.pem, server.key      the broker, for HOST (default localhost) and 127.0.0.1
# OUTDIR/CLIENT.pem, CLIENT.key      one per client (default: portsight); the certificate's CN
#                                    is the client's name, which mosquitto can use as its
#                                    username for the ACL (use_identity_as_username true)
#
# For tests and first installs. A production broker should get its certificate from the
# site's CA; the engine then only needs cafile (and its own certfile/keyfile).
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "usage: $0 OUTDIR [HOST] [CLIENT...]" >&2
    exit 2
fi
out=$1
host=${2:-localhost}
shift $(( $# >= 2 ? 2 : 1 ))
clients=("$@")
[ ${#clients[@]} -gt 0 ] || clients=(portsight)
mkdir -p "$out"
cd "$out"
days=825

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -subj "/CN=portsight test CA" \
    -keyout ca.key -out ca.pem 2>/dev/null

sign() { # name subject extfile
    openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "$2" -keyout "$1.key" \
        -out "$1.csr" 2>/dev/null
    openssl x509 -req -sha256 -days "$days" -in "$1.csr" -CA ca.pem -CAkey ca.key \
        -CAcreateserial -extfile "$3" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$3"
}

cat > server.ext <<EXT
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$host, DNS:localhost, IP:127.0.0.1
EXT
sign server "/CN=$host" server.ext

for c in "${clients[@]}"; do
    cat > "$c.ext" <<EXT
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
EXT
    sign "$c" "/CN=$c" "$c.ext"
done
chmod 600 ./*.key
rm -f ca.srl
echo "$out: ca.pem server.pem ${clients[*]/%/.pem}"
