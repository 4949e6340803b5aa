#!/usr/bin/env bash
# Plan each environment of $ENVIRONMENTS (a JSON list of terraform/envs/* names) against its
# real state, read-only (-lock=false: the plan role may not write the lock), and print one
# Markdown report for the pull request comment. Fails when a plan fails, after the report.
# Each root's variables come from $TFVARS_<ENVIRONMENT> (see terraform-init.sh).
set -euo pipefail
status=0
echo "### Terraform plan"
for env in $(jq -r '.[]' <<<"$ENVIRONMENTS"); do
  dir="terraform/envs/${env}"
  tfvars_name="TFVARS_${env^^}"
  log=$(mktemp)
  if TF_DIR="$dir" TFVARS="${!tfvars_name:-}" "$(dirname "$0")/terraform-init.sh" >"$log" 2>&1 \
    && terraform -chdir="$dir" plan -input=false -lock=false -no-color -out=tfplan >>"$log" 2>&1; then
    summary=$(grep -E '^(Plan:|No changes\.)' "$log" | tail -n 1 || true)
    terraform -chdir="$dir" show -no-color tfplan >"$log" 2>&1
  else
    summary="plan failed"
    status=1
  fi
  echo
  echo "<details><summary><b>${env}</b>: ${summary:-see the plan}</summary>"
  echo
  echo '```'
  # A comment holds 65536 characters: keep the end of each plan, where the summary is.
  tail -c 30000 "$log"
  echo '```'
  echo "</details>"
  rm -f "$log"
done
exit "$status"
