#!/usr/bin/env bash
# Checks the deployment examples (Examples/kubernetes, Examples/slurm) without a cluster, in seconds: every YAML file
# parses, the Kubernetes objects are valid against Kubernetes' schemas and say what their README promises, the Slurm
# script does what its README says when run against stand-ins for srun, scontrol and hounsfield (all in
# scripts/check-examples.py), and every shell script under Examples/ passes `bash -n` and shellcheck.
#
# Python: $HOUNSFIELD_PYTHON when set (scripts/test.sh sets it to .venv-test, which has PyYAML and
# kubernetes-validate), else python3 (which needs PyYAML; without kubernetes-validate the schemas are not checked, and
# the script says so).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh # installs shellcheck when it is missing

"${HOUNSFIELD_PYTHON:-python3}" scripts/check-examples.py

# Shell scripts: by extension, or by a shell on their first line (an sbatch file is a bash script).
scripts=()
while IFS= read -r -d '' file; do
  case "$file" in
    *.sh | *.bash | *.sbatch) scripts+=("$file") ;;
    *) if head -n 1 "$file" | grep -Eq '^#!.*[/ ](ba)?sh( |$)'; then scripts+=("$file"); fi ;;
  esac
done < <(find Examples -name .build -prune -o -type f -print0 | sort -z)
scripts+=(scripts/check-examples.sh)
for script in "${scripts[@]}"; do
  bash -n "$script"
  shellcheck --shell=bash "$script"
done
echo "check-examples: ${#scripts[@]} shell scripts pass bash -n and shellcheck: ${scripts[*]}"
