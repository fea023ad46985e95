#!/usr/bin/env bash
# Installs the tools that check and render the Helm chart, from the Go
# module proxy, into a cache kept between runs, and prints where they are:
#
#   eval "$(scripts/deploy-tools.sh)"     # sets HELM and KUBECONFORM
#
# A version already in the cache is not built again. WARDEN_TOOLS_DIR
# moves the cache (default ~/.cache/warden-tools).
set -euo pipefail

HELM_VERSION=v4.3.1
KUBECONFORM_VERSION=v0.8.0

tools=${WARDEN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/warden-tools}

install() { # name module version
  local dir="$tools/$1-$3"
  if [ ! -x "$dir/$1" ]; then
    echo "deploy-tools: go install $2@$3 (once; cached in $dir)" >&2
    mkdir -p "$dir"
    # Outside this module, so go.mod and go.sum are left alone.
    (cd "$(mktemp -d)" && GOFLAGS=-mod=mod GOBIN="$dir" go install "$2@$3") >&2
  fi
  echo "$dir/$1"
}

helm=$(install helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION")
kubeconform=$(install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")
printf 'HELM=%q\nKUBECONFORM=%q\nHELM_VERSION=%q\nKUBECONFORM_VERSION=%q\n' "$helm" "$kubeconform" "$HELM_VERSION" "$KUBECONFORM_VERSION"
