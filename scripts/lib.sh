# Shared by run.sh and test.sh.
PYTHON=${PYTHON:-python3}

ensure_venv() {
  # Create .venv and install requirements.lock into it; silent when both are already in place.
  # pip runs quietly, so each step says what it does: a first start never looks stuck.
  local stamp=.venv/.requirements.sha256
  local want count
  want=$(sha256sum requirements.lock | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ]; then
    echo "Creating the virtual environment (.venv) …"
    "$PYTHON" -m venv .venv
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    count=$(grep -cE '^[A-Za-z0-9]' requirements.lock || true)
    if [ -f "$stamp" ]; then
      echo "Updating to the $count Python packages of requirements.lock (it changed) …"
    else
      echo "Installing $count Python packages (first start, about a minute) …"
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
    echo "$want" > "$stamp"
    echo "Python packages installed."
  fi
}

ensure_system_packages() {
  # Debian packages the tests need: a browser, redis-server, mosquitto, gettext, and for the
  # scaled-mode tests PostgreSQL (initdb, pg_ctl: each test run starts a throw-away cluster of its
  # own; the system cluster the package starts is never used), nginx and openssl.
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
  command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
  command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
  command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

ensure_node_peer() {
  # The strict third-party OCPP peer of the tests (ocpp-rpc, tests/ocpp/node): Debian's nodejs and
  # npm, then the packages pinned in package-lock.json, again whenever the lock is newer.
  local dir=tests/ocpp/node
  local missing=()
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing Debian packages: ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "Installing the strict OCPP test peer (npm ci in $dir) …"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    touch "$dir/node_modules"
  fi
}
