#!/bin/sh
# Builds mods/{{name}}.wasm: componentize-py (installed into .venv on first use) packs app.py,
# the Nexori Python SDK and a Python interpreter into one WebAssembly component.
set -eu
cd "$(dirname "$0")"
# Where the Nexori SDKs are (a checkout of the Nexori repository); `nexori new` wrote its own.
NEXORI_SDK_DIR="${NEXORI_SDK_DIR:-{{sdk}}}"
COMPONENTIZE_PY="${COMPONENTIZE_PY:-.venv/bin/componentize-py}"
if [ ! -x "$COMPONENTIZE_PY" ]; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-build.txt
fi
mkdir -p mods
PYTHONDONTWRITEBYTECODE=1 "$COMPONENTIZE_PY" -d "$NEXORI_SDK_DIR/wit" -w rules-mod-base componentize \
  -p "$NEXORI_SDK_DIR/guest-sdk-python" -p . app -o mods/{{name}}.wasm
