#!/usr/bin/env bash
# Offline checks of the Terraform deployment:
#   1. terraform fmt -check -recursive
#   2. terraform init -backend=false + validate: the root module, examples/complete, moto/
#   3. terraform test (tests/*.tftest.hcl, mocked aws provider)
#   4. checkov (installed into a cache venv if it is not on PATH)
#
#   bash terraform/test.sh          # from any directory
#
# The hashicorp/aws provider comes from a local filesystem mirror (default
# /opt/tf-plugins; RECKON_TF_PROVIDER_MIRROR overrides). Without terraform or the mirror,
# steps 1-3 are skipped with a banner and checkov still runs. Terraform works on a
# temporary copy of terraform/, so no .terraform/, lock file or state is written here;
# running it again does the same thing.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
mirror=${RECKON_TF_PROVIDER_MIRROR:-/opt/tf-plugins}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

banner() {
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!! $*"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
}

terraform_ok=1
if ! command -v terraform >/dev/null 2>&1; then
  banner "SKIPPED: terraform is not installed: fmt, validate and terraform test did not run"
  terraform_ok=0
elif [ ! -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
  banner "SKIPPED: no hashicorp/aws provider mirror at $mirror (set RECKON_TF_PROVIDER_MIRROR): fmt, validate and terraform test did not run"
  terraform_ok=0
fi

if [ "$terraform_ok" -eq 1 ]; then
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
  export TF_IN_AUTOMATION=1
  export TF_INPUT=0
  # A mocked provider needs no credentials; keep real ones out of reach anyway.
  unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
  export AWS_EC2_METADATA_DISABLED=true

  echo "== terraform $(terraform version | head -n1 | cut -d' ' -f2): fmt -check"
  terraform -chdir="$here" fmt -check -recursive -diff

  src="$work/src"
  mkdir -p "$src"
  (cd "$here" && tar --exclude=.terraform --exclude=.terraform.lock.hcl --exclude='*.tfstate*' -cf - .) | tar -xf - -C "$src"

  for dir in . examples/complete moto; do
    echo "== validate: terraform/$dir"
    TF_DATA_DIR="$work/data/$dir" terraform -chdir="$src/$dir" init -backend=false -no-color >"$work/init.log" 2>&1 \
      || { cat "$work/init.log" >&2; echo "error: terraform init failed in terraform/$dir" >&2; exit 1; }
    TF_DATA_DIR="$work/data/$dir" terraform -chdir="$src/$dir" validate -no-color
  done

  echo "== terraform test (mocked aws provider)"
  TF_DATA_DIR="$work/data/." terraform -chdir="$src" test -no-color
fi

echo "== checkov"
checkov_bin=""
if command -v checkov >/dev/null 2>&1; then
  checkov_bin=$(command -v checkov)
else
  # A venv of its own: checkov pins boto3/botocore versions that would otherwise
  # replace the ones moto and the AWS CLI use.
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/reckon-terraform/checkov-venv"
  if [ ! -x "$venv/bin/checkov" ]; then
    echo "installing checkov into $venv (pip)"
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check checkov; }; then
      banner "FAILED: checkov could not be installed (pip install checkov into $venv); the security scan did not run"
      exit 1
    fi
  fi
  checkov_bin="$venv/bin/checkov"
fi
(cd "$repo" && "$checkov_bin" -d terraform --config-file terraform/.checkov.yaml --skip-download --quiet --compact)

if [ "$terraform_ok" -eq 1 ]; then
  echo "== terraform checks passed (fmt, validate, terraform test, checkov)"
else
  banner "checkov passed; fmt, validate and terraform test were SKIPPED (see above)"
fi
