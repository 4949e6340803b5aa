#!/usr/bin/env bash
# terraform init of $TF_DIR with its real (S3) backend; a backend.hcl beside the root, when
# there is one, completes the backend block.
set -euo pipefail
args=(-input=false -lock-timeout=10m)
if [[ -f "${TF_DIR}/backend.hcl" ]]; then
  args+=(-backend-config=backend.hcl)
fi
terraform -chdir="$TF_DIR" init "${args[@]}"
