#!/usr/bin/env bash
# Renders the Helm chart into the plain manifests under deploy/kubernetes/,
# for clusters deployed without Helm:
#
#   deploy/kubernetes/default/   one replica on SQLite (values.yaml)
#   deploy/kubernetes/ha/        values-ha.yaml; ha/migrate/ holds the
#                                migration Job, applied (and waited for) first
#   deploy/kubernetes/sidecar/   values-sidecar.yaml
#
# Release name warden, namespace warden. Run it after changing the chart;
# scripts/deploy-check.sh (CI) fails while deploy/kubernetes/ differs from
# what this writes.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${HELM:-}" ]; then
  eval "$(scripts/deploy-tools.sh)"
fi
KUBE_VERSION=${KUBE_VERSION:-1.31.14}
chart=deploy/helm/warden
out=deploy/kubernetes

render() { # dir [helm flags…]
  local dir=$1; shift
  local tmp
  tmp=$(mktemp -d)
  "$HELM" template warden "$chart" --namespace warden --kube-version "$KUBE_VERSION" "$@" --output-dir "$tmp" >/dev/null
  rm -rf "${out:?}/$dir"
  mkdir -p "$out/$dir"
  for f in "$tmp"/warden/templates/*.yaml; do
    name=$(basename "$f")
    case $name in
      migrate-*) mkdir -p "$out/$dir/migrate"; cp "$f" "$out/$dir/migrate/${name#migrate-}" ;;
      *) cp "$f" "$out/$dir/$name" ;;
    esac
  done
  rm -rf "$tmp"
}

render default
render ha -f "$chart/values-ha.yaml"
render sidecar -f "$chart/values-sidecar.yaml"
echo "render-manifests: wrote $out/{default,ha,sidecar}"
