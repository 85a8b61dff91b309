#!/usr/bin/env bash
# Tests of the Python training runtime, as CI runs them:
#   1. prepare the Python environment (venv + pinned packages + runtime + test tools) in .llmops-test/,
#   2. ruff, 3. pytest with a JUnit report in test-results/pytest.xml.
# Needs Debian's python3, python3-venv and python3-torch (apt-get install -y python3-venv python3-torch).
# Extra arguments go to pytest (e.g. -k sigterm).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
home="${LLMOPS_TEST_HOME:-$repo/.llmops-test}"
cd "$repo"
npx tsx packages/pyenv/src/prepare.ts --home "$home" --dev >/dev/null
python="$home/venv/bin/python"
mkdir -p "$repo/test-results"
cd "$repo/runtimes/python"
"$python" -m ruff check .
exec "$python" -m pytest -q -p no:cacheprovider --junitxml="$repo/test-results/pytest.xml" "$@"
