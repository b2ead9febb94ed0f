# Sourced by scripts/serve and scripts/test: make .venv and install the project into it,
# again only when pyproject.toml has changed since the last install.
ensure_venv() {
  local extras="${1:-}"
  local python="${PYTHON:-python3}"
  local stamp=".venv/.installed${extras:+-$extras}"
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
    touch "$stamp"
  fi
}
