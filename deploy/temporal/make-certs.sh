#!/bin/sh
# Certificates for Temporal with mutual TLS (docker-compose.yml): a CA, Temporal's server certificate and
# one client certificate per backup server, plus "admin" for the compose jobs and the Web UI.
#   deploy/temporal/make-certs.sh OUT_DIR SERVER_NAME [BACKUP_SERVER...]
# SERVER_NAME is the DNS name or IP address the backup servers dial (temporal.address); the certificate
# also names "temporal" (the compose service), localhost and 127.0.0.1. Files already there are kept:
# run it again with a new backup server's name to add its certificate from the same CA.
# Keys are 0600; the two the containers read (server.key, client-admin.key) belong to uid 1000, the
# user of the temporalio/server, admin-tools and ui images. Copy ca.pem, client-NAME.pem and
# client-NAME.key to each backup server's /etc/tidemark/temporal-tls/.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 OUT_DIR SERVER_NAME [BACKUP_SERVER...]" >&2; exit 2; }
out=$1
server=$2
shift 2
days=${TEMPORAL_CERT_DAYS:-825}
umask 077
mkdir -p "$out"
cd "$out"

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -f ca.pem ]; then
	newkey ca.key
	openssl req -x509 -new -key ca.key -out ca.pem -days 3650 -subj "/CN=Tidemark Temporal CA" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
fi

# issue NAME COMMON_NAME EXTENDED_KEY_USAGE SUBJECT_ALT_NAMES
issue() {
	[ -f "$1.pem" ] && return 0
	newkey "$1.key"
	openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr"
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
		"$3" "$4" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" -extfile "$1.ext" \
		-out "$1.pem" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
	echo "$out/$1.pem: $2"
}

case "$server" in
	*[!0-9.]*) san="DNS:$server" ;;
	*) san="IP:$server" ;;
esac
# The server certificate is also the frontend's client certificate between Temporal's own services.
issue server "$server" serverAuth,clientAuth "$san,DNS:temporal,DNS:localhost,IP:127.0.0.1"
for client in admin "$@"; do
	issue "client-$client" "$client" clientAuth "DNS:$client"
done
chmod 0644 ./*.pem
if [ "$(id -u)" = 0 ]; then chown 1000 server.key client-admin.key; fi
