# Shared by infra/up and infra/test: the project virtualenv and finding Postgres.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
VENV="$ROOT/infra/.venv"
PY_REQUIREMENTS="$ROOT/infra/requirements.txt"
mkdir -p "$LOCAL"

say() { printf '\033[1m[adpilot]\033[0m %s\n' "$*" >&2; }

# The project virtualenv with the Python tools the local stack and tests use.
ensure_venv() {
    local stamp="$VENV/.installed"
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "creating virtualenv in infra/.venv"
        python3 -m venv "$VENV"
    fi
    if [[ ! -f "$stamp" || "$PY_REQUIREMENTS" -nt "$stamp" ]]; then
        say "installing Python tools (infra/requirements.txt)"
        "$VENV/bin/pip" install -q --disable-pip-version-check -r "$PY_REQUIREMENTS"
        touch "$stamp"
    fi
}

# cargo-lambda with Zig (pip, into the venv) and the arm64 standard library, for the
# deployment build `cargo lambda build --release --arm64` (infra/bench --arm64).
ensure_cargo_lambda() {
    ensure_venv
    if [[ ! -x "$VENV/bin/cargo-lambda" || ! -x "$VENV/bin/python-zig" ]]; then
        say "installing cargo-lambda and Zig into infra/.venv"
        "$VENV/bin/pip" install -q --disable-pip-version-check cargo-lambda ziglang
    fi
    rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
    export PATH="$VENV/bin:$PATH"
}

pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/$1" ]] && { echo "$dir/$1"; return; }
    done
    command -v "$1"
}

# Finds a Postgres server we can administer and exports PG_HOST, PG_PORT, PG_SUPERUSER:
# the machine's server at 127.0.0.1:5432, else a throwaway cluster under .local/pg.
ensure_postgres() {
    PG_HOST=${PG_HOST:-127.0.0.1}
    PG_PORT=${PG_PORT:-5432}
    local su
    for su in ${PG_SUPERUSER:-postgres} "$(id -un)"; do
        if psql -h "$PG_HOST" -p "$PG_PORT" -U "$su" -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
            PG_SUPERUSER=$su
            export PG_HOST PG_PORT PG_SUPERUSER
            return
        fi
    done
    start_throwaway_cluster
}

start_throwaway_cluster() {
    local data="$LOCAL/pg" port=54329 as=()
    [[ $(id -u) == 0 ]] && as=(runuser -u postgres --)
    if [[ ! -f "$data/PG_VERSION" ]]; then
        say "no Postgres at $PG_HOST:$PG_PORT; creating a throwaway cluster in .local/pg"
        mkdir -p "$data"
        [[ $(id -u) == 0 ]] && chown postgres "$data"
        "${as[@]}" "$(pg_bin initdb)" -D "$data" -U postgres -A trust --no-sync >/dev/null
    fi
    if ! "${as[@]}" "$(pg_bin pg_ctl)" -D "$data" status >/dev/null 2>&1; then
        "${as[@]}" "$(pg_bin pg_ctl)" -D "$data" -l "$data/log" -w \
            -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    fi
    PG_HOST=127.0.0.1 PG_PORT=$port PG_SUPERUSER=postgres
    export PG_HOST PG_PORT PG_SUPERUSER
}

psql_admin() {
    psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_SUPERUSER" -v ON_ERROR_STOP=1 -Atq "$@"
}

# Creates the migration owner role and the database it owns (what RDS's master user
# and DBName do in AWS). Roles for the app and worker come from the migrations.
bootstrap_database() {
    local db=$1
    psql_admin -d postgres -c "DO \$\$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'adpilot_owner') THEN
            CREATE ROLE adpilot_owner LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS;
        END IF; END \$\$;"
    if [[ -z $(psql_admin -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
        psql_admin -d postgres -c "CREATE DATABASE $db OWNER adpilot_owner"
    fi
}

# Local secrets, generated once per checkout and kept out of git.
load_dev_secrets() {
    local file="$LOCAL/dev-secrets.env"
    if [[ ! -f $file ]]; then
        python3 - >"$file" <<'PY'
import base64, secrets
print(f"DEV_JWT_SECRET={secrets.token_urlsafe(48)}")
print(f"DEV_TOKEN_ENCRYPTION_KEYS=local1:{base64.b64encode(secrets.token_bytes(32)).decode()}")
PY
    fi
    # Keys added after a checkout's first run are appended once.
    grep -q '^DEV_RAZORPAY_KEY_SECRET=' "$file" || python3 - >>"$file" <<'PY'
import secrets
print(f"DEV_RAZORPAY_KEY_SECRET={secrets.token_urlsafe(18)}")
print(f"DEV_RAZORPAY_WEBHOOK_SECRET={secrets.token_urlsafe(24)}")
print(f"DEV_GEMINI_API_KEY=local-{secrets.token_urlsafe(24)}")
PY
    grep -q '^DEV_STRIPE_SECRET_KEY=' "$file" || python3 - >>"$file" <<'PY'
import secrets
print(f"DEV_STRIPE_SECRET_KEY=sk_test_{secrets.token_urlsafe(24)}")
print(f"DEV_STRIPE_WEBHOOK_SECRET=whsec_{secrets.token_urlsafe(24)}")
PY
    grep -q '^DEV_META_APP_SECRET=' "$file" || python3 - >>"$file" <<'PY'
import secrets
print(f"DEV_META_APP_SECRET={secrets.token_hex(16)}")
print(f"DEV_META_VERIFY_TOKEN={secrets.token_urlsafe(18)}")
PY
    # shellcheck disable=SC1090
    source "$file"
    export JWT_SECRET=${JWT_SECRET:-$DEV_JWT_SECRET}
    export TOKEN_ENCRYPTION_KEYS=${TOKEN_ENCRYPTION_KEYS:-$DEV_TOKEN_ENCRYPTION_KEYS}
    export RAZORPAY_KEY_ID=${RAZORPAY_KEY_ID:-rzp_test_adpilotlocal}
    export RAZORPAY_KEY_SECRET=${RAZORPAY_KEY_SECRET:-$DEV_RAZORPAY_KEY_SECRET}
    export RAZORPAY_WEBHOOK_SECRET=${RAZORPAY_WEBHOOK_SECRET:-$DEV_RAZORPAY_WEBHOOK_SECRET}
    export STRIPE_SECRET_KEY=${STRIPE_SECRET_KEY:-$DEV_STRIPE_SECRET_KEY}
    export STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK_SECRET:-$DEV_STRIPE_WEBHOOK_SECRET}
    export GEMINI_API_KEY=${GEMINI_API_KEY:-$DEV_GEMINI_API_KEY}
    export META_APP_ID=${META_APP_ID:-100200300400500}
    export META_APP_SECRET=${META_APP_SECRET:-$DEV_META_APP_SECRET}
    export META_VERIFY_TOKEN=${META_VERIFY_TOKEN:-$DEV_META_VERIFY_TOKEN}
}

# Starts the local AWS emulator (moto) for the test suite on a free port and exports the
# standard SDK settings pointing at it; it stops when the calling script exits.
start_test_aws() {
    local port
    port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$LOCAL/moto-test.log" 2>&1 &
    MOTO_PID=$!
    trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
    export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=ap-south-1
    export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
    for _ in $(seq 100); do
        curl -s -o /dev/null "$AWS_ENDPOINT_URL" && return
        sleep 0.1
    done
    say "moto did not start; see .local/moto-test.log"
    return 1
}
