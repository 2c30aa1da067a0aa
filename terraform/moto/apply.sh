#!/usr/bin/env bash
# Applies terraform/moto (the queue, scheduler, ECS and S3 parts of the deployment) to a
# running moto server and writes `terraform output -json` to OUTPUT_JSON.
#
#   terraform/moto/apply.sh http://127.0.0.1:5055 /tmp/tf-outputs.json
#
# Works from any directory. Each run uses a fresh temporary data dir and state (nothing
# is written under terraform/) and a fresh name prefix, so it can be run again against
# the same moto. The provider comes from the local mirror (offline).
#
# Exit codes: 0 applied; 2 usage; 3 terraform or the provider mirror is missing here
# (the caller may skip); anything else: the apply failed.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 ENDPOINT OUTPUT_JSON   (e.g. $0 http://127.0.0.1:5055 /tmp/tf-outputs.json)" >&2
  exit 2
fi
endpoint=$1
output_json=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mirror=${RECKON_TF_PROVIDER_MIRROR:-/opt/tf-plugins}

if ! command -v terraform >/dev/null 2>&1; then
  echo "!! SKIPPED: terraform is not installed; terraform/moto was not applied" >&2
  exit 3
fi
if [ ! -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
  echo "!! SKIPPED: no hashicorp/aws provider mirror at $mirror (set RECKON_TF_PROVIDER_MIRROR); terraform/moto was not applied" >&2
  exit 3
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
CFG
export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
export TF_DATA_DIR="$work/data"
export TF_IN_AUTOMATION=1
export TF_INPUT=0
# The config's provider block has fixed fake keys; keep real ones out of the way.
unset AWS_PROFILE AWS_SESSION_TOKEN
export AWS_EC2_METADATA_DISABLED=true

name="reckon-$(date +%s)-$RANDOM"
state="$work/terraform.tfstate"

# Run on a copy of moto/ and modules/, so that init's lock file and anything else
# Terraform writes stay out of the checkout.
mkdir -p "$work/src"
(cd "$here/.." && tar --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfstate*' -cf - moto modules) \
  | tar -xf - -C "$work/src"
cfg="$work/src/moto"

terraform -chdir="$cfg" init -backend=false -no-color >"$work/init.log" 2>&1 \
  || { cat "$work/init.log" >&2; echo "error: terraform init failed" >&2; exit 1; }
terraform -chdir="$cfg" apply -auto-approve -no-color -state="$state" \
  -var "endpoint=$endpoint" -var "name=$name" >"$work/apply.log" 2>&1 \
  || { cat "$work/apply.log" >&2; echo "error: terraform apply against $endpoint failed" >&2; exit 1; }
case "$output_json" in /*) ;; *) output_json="$PWD/$output_json" ;; esac
mkdir -p "$(dirname "$output_json")"
terraform -chdir="$cfg" output -json -state="$state" >"$output_json.tmp"
mv "$output_json.tmp" "$output_json"
echo "terraform/moto applied to $endpoint as $name; outputs in $output_json"
