#!/usr/bin/env bash
# Checks the Helm chart (deploy/helm/warden) and what is rendered from it,
# without the network and without a cluster:
#
#   1. deploy/schemas is what internal/cmd/k8sschema makes from the pinned
#      module versions (Kubernetes OpenAPI, HTTPRoute and ServiceMonitor CRDs)
#   2. helm lint --strict with the default, HA and sidecar values
#   3. helm template for each (and every optional resource switched on),
#      validated by kubeconform -strict against deploy/schemas only
#   4. the chart's behaviour tests (go test ./deploy/helm): security
#      context, probes, hooks, secrets only by reference, refusals, and
#      each rendered warden.yaml loaded by warden itself
#   5. deploy/kubernetes is what scripts/render-manifests.sh writes
#
# helm and kubeconform come from the Go module proxy (scripts/deploy-tools.sh,
# cached). Called by scripts/test.sh; runs alone too.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

eval "$(scripts/deploy-tools.sh)"
export HELM
KUBE_VERSION=1.31.14
chart=deploy/helm/warden
tmp=$(mktemp -d "${TMPDIR:-/tmp}/warden-deploy-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "deploy-check: helm $HELM_VERSION, kubeconform $KUBECONFORM_VERSION (go install, cached), Kubernetes schemas v$KUBE_VERSION"

echo "deploy-check: vendored schemas are reproducible (go run ./internal/cmd/k8sschema)"
go run ./internal/cmd/k8sschema -out "$tmp/schemas" -kubernetes "v$KUBE_VERSION"
sdir=v$KUBE_VERSION-standalone-strict
if ! diff -r "deploy/schemas/$sdir" "$tmp/schemas/$sdir" >"$tmp/schemas.diff"; then
  head -50 "$tmp/schemas.diff" >&2
  echo "deploy-check: deploy/schemas differs from what internal/cmd/k8sschema writes; run: go run ./internal/cmd/k8sschema -out deploy/schemas" >&2
  exit 1
fi

modes=(default ha sidecar)
flags_default=()
flags_ha=(-f "$chart/values-ha.yaml")
flags_sidecar=(-f "$chart/values-sidecar.yaml")
# Every optional resource on (Ingress, HTTPRoute, ServiceMonitor, secrets
# projected beside the config), so their schemas are checked too.
flags_all=(-f "$chart/values-ha.yaml" -f deploy/helm/testdata/all-features.yaml)
# The sidecar on the shared PostgreSQL store (with its migration Job).
flags_sidecarpg=(-f "$chart/values-sidecar.yaml" -f deploy/helm/testdata/sidecar-postgres.yaml)

for m in "${modes[@]}" all sidecarpg; do
  eval 'flags=("${flags_'"$m"'[@]}")'
  echo "deploy-check: helm lint --strict ($m)"
  "$HELM" lint --strict "$chart" --kube-version "$KUBE_VERSION" "${flags[@]}" >"$tmp/lint-$m.txt" 2>&1 || { cat "$tmp/lint-$m.txt" >&2; exit 1; }
  grep -E '^(==>|[0-9]+ chart)' "$tmp/lint-$m.txt" | sed 's/^/  /'
  "$HELM" template warden "$chart" --namespace warden --kube-version "$KUBE_VERSION" "${flags[@]}" >"$tmp/$m.yaml"
done

echo "deploy-check: kubeconform -strict (schemas from deploy/schemas only)"
for m in "${modes[@]}" all sidecarpg; do
  printf '  %-10s ' "$m"
  "$KUBECONFORM" -strict -summary -kubernetes-version "$KUBE_VERSION" -schema-location deploy/schemas "$tmp/$m.yaml"
done
printf '  %-10s ' "plain"
"$KUBECONFORM" -strict -summary -kubernetes-version "$KUBE_VERSION" -schema-location deploy/schemas deploy/kubernetes

echo "deploy-check: chart behaviour (go test ./deploy/helm)"
WARDEN_HELM="$HELM" go test -count=1 ./deploy/helm

echo "deploy-check: deploy/kubernetes is up to date (scripts/render-manifests.sh)"
scripts/render-manifests.sh >/dev/null
if ! git diff --exit-code --stat -- deploy/kubernetes || [ -n "$(git status --porcelain -- deploy/kubernetes)" ]; then
  git status --short -- deploy/kubernetes >&2
  echo "deploy-check: deploy/kubernetes is not what the chart renders; run scripts/render-manifests.sh and commit the result" >&2
  exit 1
fi

echo "deploy-check: ok in $(( $(date +%s) - start ))s"
