#!/usr/bin/env bash
# The serving certificate of the control plane's HTTPS port without cert-manager: a CA and a certificate for
# outrigger-control-plane.outrigger-system.svc made with openssl, stored in Secret outrigger-webhook-tls (mounted
# at /etc/outrigger/tls), and the CA written into the caBundle of the sidecar injector webhook and of the external
# metrics APIService. Run it after `kubectl apply -k manifests/` with cert-manager.yaml removed from
# manifests/kustomization.yaml, and again before the certificate expires (it makes a new CA each time).
#
#   manifests/webhook-cert.sh [--days N] [--namespace NS]      needs openssl and kubectl (current context)
set -euo pipefail

NAMESPACE=outrigger-system
DAYS=365
SERVICE=outrigger-control-plane
SECRET=outrigger-webhook-tls
WEBHOOK=outrigger-sidecar-injector
APISERVICE=v1beta1.external.metrics.k8s.io

while [ $# -gt 0 ]; do
  case "$1" in
    --days) DAYS="$2"; shift 2 ;;
    --namespace) NAMESPACE="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "webhook-cert.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

for tool in openssl kubectl; do
  command -v "$tool" >/dev/null || { echo "webhook-cert.sh: $tool is required" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
HOST="$SERVICE.$NAMESPACE.svc"

# 1. A CA (ECDSA P-256), used only to sign the serving certificate.
openssl ecparam -name prime256v1 -genkey -noout -out ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$DAYS" -subj "/CN=outrigger-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt

# 2. The serving certificate, for the names the kube-apiserver dials.
openssl ecparam -name prime256v1 -genkey -noout -out tls.key
openssl req -new -key tls.key -subj "/CN=$HOST" -out tls.csr
cat > server.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$HOST,DNS:$HOST.cluster.local
EXT
openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days "$DAYS" -extfile server.ext -out tls.crt
openssl verify -CAfile ca.crt tls.crt >/dev/null

# 3. The Secret the control plane mounts (created or replaced).
kubectl create secret generic "$SECRET" --namespace "$NAMESPACE" --type kubernetes.io/tls \
  --from-file=tls.crt --from-file=tls.key --from-file=ca.crt --dry-run=client -o yaml | kubectl apply -f -

# 4. The CA into every caBundle the kube-apiserver checks the certificate with.
CA_BUNDLE=$(base64 < ca.crt | tr -d '\n')
count=$(kubectl get mutatingwebhookconfiguration "$WEBHOOK" -o jsonpath='{range .webhooks[*]}x{end}')
patch="["
for ((i = 0; i < ${#count}; i++)); do
  [ "$i" -gt 0 ] && patch+=","
  patch+="{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$CA_BUNDLE\"}"
done
patch+="]"
kubectl patch mutatingwebhookconfiguration "$WEBHOOK" --type json -p "$patch"
if kubectl get apiservice "$APISERVICE" >/dev/null 2>&1; then
  kubectl patch apiservice "$APISERVICE" --type merge -p "{\"spec\":{\"caBundle\":\"$CA_BUNDLE\",\"insecureSkipTLSVerify\":false}}"
fi

# 5. Replicas read the certificate at start.
kubectl rollout restart deployment/"$SERVICE" --namespace "$NAMESPACE"
kubectl rollout status deployment/"$SERVICE" --namespace "$NAMESPACE" --timeout 120s
echo "webhook-cert.sh: $SECRET issued for $HOST, valid $DAYS days; caBundle set on $WEBHOOK and $APISERVICE"
