#!/usr/bin/env bash
# terraform init of the root $TF_DIR with its real (S3) backend. The backend's partial
# configuration comes from $TF_DIR/backend.hcl when there is one, else from $TF_STATE_BUCKET
# and $TF_STATE_REGION (repository variables). The root's variables (terraform.tfvars is
# git-ignored) come from $TFVARS, the HCL text of a repository variable TFVARS_<ENVIRONMENT>.
set -euo pipefail
args=(-input=false -lock-timeout=10m)
if [[ -f "${TF_DIR}/backend.hcl" ]]; then
  args+=(-backend-config=backend.hcl)
else
  args+=(-backend-config="bucket=${TF_STATE_BUCKET:?set the TF_STATE_BUCKET variable}")
  args+=(-backend-config="region=${TF_STATE_REGION:?set the TF_STATE_REGION variable}")
fi
if [[ -n "${TFVARS:-}" && ! -f "${TF_DIR}/terraform.tfvars" ]]; then
  printf '%s\n' "$TFVARS" > "${TF_DIR}/terraform.tfvars"
fi
terraform -chdir="$TF_DIR" init "${args[@]}"
