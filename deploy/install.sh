#!/usr/bin/env bash
# Installs Zbor on this machine: the system user, its folders, the PostgreSQL role and database,
# one release (its own virtualenv, translations, static files), the first migration, the
# /opt/zbor/current link, the environment file (only if there is none) and the systemd units.
#
#   deploy/install.sh [VERSION]     # as root; VERSION: a tag (v0.6.0) or commit, default HEAD
#
# Idempotent: run it again and it changes nothing (an existing environment file is never
# touched). To move an installed site to another release use deploy/upgrade.sh. The source is a
# git checkout: the one this script is in, or ZBOR_SOURCE. docs/deploy.md, "Install", explains
# each step; every path and name below can be changed through the environment (a test installs
# into a temporary folder as an ordinary user):
#
#   ZBOR_USER, ZBOR_GROUP (zbor)        ZBOR_HOME (/opt/zbor)       ZBOR_ENV_FILE (/etc/zbor/zbor.env)
#   ZBOR_BACKUP_DIR (/var/backups/zbor) ZBOR_WEB_GROUP (www-data)   ZBOR_PYTHON (python3)
#   ZBOR_SOURCE (this checkout)         ZBOR_PIP_ARGS ("")          ZBOR_SYSTEMD_DIR (/etc/systemd/system)
#   ZBOR_INSTALL_UNITS (auto: when systemd runs; yes; no)
#   ZBOR_PG_ADMIN_URL: a PostgreSQL connection allowed to create roles and databases (for example
#     postgres://postgres@db-primary.internal/postgres, or "postgres:///postgres" run as the
#     postgres user); without it the role and database in DATABASE_URL must already exist.
set -euo pipefail
# shellcheck source=deploy/release-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/release-lib.sh"

: "${ZBOR_SYSTEMD_DIR:=/etc/systemd/system}"
: "${ZBOR_INSTALL_UNITS:=auto}"
VERSION=${1:-${ZBOR_VERSION:-HEAD}}
SOURCE=$(zbor_source)
EXAMPLE=$SOURCE/deploy/zbor.env.example

for tool in git tar "$ZBOR_PYTHON"; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install git python3-venv)"
done

# --- The user ---------------------------------------------------------------------------------
if ! id -u "$ZBOR_USER" >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "user $ZBOR_USER does not exist and only root can create it"
    say "creating the system user $ZBOR_USER"
    useradd --system --user-group --home-dir /srv/zbor --no-create-home --shell /usr/sbin/nologin "$ZBOR_USER"
fi
getent group "$ZBOR_WEB_GROUP" >/dev/null || ZBOR_WEB_GROUP=$ZBOR_GROUP

# --- The environment file: installed from the example only if there is none --------------------
if [ ! -e "$ZBOR_ENV_FILE" ]; then
    say "writing $ZBOR_ENV_FILE from deploy/zbor.env.example"
    install -d -m 0750 -g "$ZBOR_GROUP" "$(dirname "$ZBOR_ENV_FILE")"
    install -m 0640 -g "$ZBOR_GROUP" "$EXAMPLE" "$ZBOR_ENV_FILE"
fi
# Refuse to go on while it still holds the example's placeholders (production settings only).
settings=$(env_value DJANGO_SETTINGS_MODULE)
if [ "$settings" = config.settings.production ]; then
    todo=$(awk '
        /^[ \t]*#/ || !/=/ { next }
        { key = $0; sub(/=.*/, "", key); value = $0; sub(/^[^=]*=/, "", value); gsub(/["\047]/, "", value) }
        key == "SECRET_KEY" && length(value) < 50 { print "  line " NR ": SECRET_KEY (at least 50 random characters)"; next }
        tolower(value) ~ /change-me/ { print "  line " NR ": " key " (replace CHANGE-ME)"; next }
        key == "ZBOR_ENCRYPTION_KEYS" && value == "" { print "  line " NR ": ZBOR_ENCRYPTION_KEYS (a Fernet key)" }
    ' "$ZBOR_ENV_FILE")
    if [ -n "$todo" ]; then
        printf 'Fill in %s before installing (then run this again):\n%s\n' "$ZBOR_ENV_FILE" "$todo" >&2
        printf 'SECRET_KEY:           %s\n' "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'" >&2
        printf 'ZBOR_ENCRYPTION_KEYS: %s\n' "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'" >&2
        exit 2
    fi
fi

# --- Folders -------------------------------------------------------------------------------------
data=$(env_value ZBOR_DATA_DIR)
data=${data:-/srv/zbor}
media=$(env_value ZBOR_MEDIA_ROOT)
media=${media:-$data/public/media}
static=$(env_value ZBOR_STATIC_ROOT)
static=${static:-$data/public/static}
private=$(env_value ZBOR_PRIVATE_ROOT)
private=${private:-$data/private}
backups=$(env_value ZBOR_BACKUP_DIR)   # zbor backup's folder; the file's value, else this script's
say "folders: $data, $ZBOR_HOME, $backups"
# $ZBOR_USER owns its folders, so it could swap one (or a folder between it and the data folder)
# for a link to /etc: refuse links there, and never write, chown or chmod as root inside a
# folder $ZBOR_USER owns. Such folders are made and set by $ZBOR_USER itself.
no_links() {   # no_links PATH: PATH and each folder from the data folder down to it are no links
    local path=$1
    while :; do
        [ ! -L "$path" ] || die "$path is a symbolic link: make it a folder (or point the environment file at the real one)"
        case $path in "$data"/*) path=$(dirname "$path") ;; *) return 0 ;; esac
    done
}
make_dir() {   # make_dir MODE PATH: a folder of $ZBOR_USER's
    local mode=$1 path=$2 up
    no_links "$path"
    up=$(dirname "$path")
    until [ -e "$up" ]; do up=$(dirname "$up"); done
    if [ "$(stat -c %U "$up")" = "$ZBOR_USER" ]; then
        as_zbor install -d -m "$mode" "$path"   # inside the site user's own folder
    else
        install -d -o "$ZBOR_USER" -g "$ZBOR_GROUP" -m "$mode" "$path"
    fi
}
web_group() {   # web_group PATH...: group $ZBOR_WEB_GROUP, mode 2750, on folders $ZBOR_USER owns
    # As root, on the folder itself (opened without following a link) and only if it is
    # $ZBOR_USER's: a folder swapped meanwhile cannot redirect the change to someone else's.
    "$ZBOR_PYTHON" - "$ZBOR_USER" "$ZBOR_WEB_GROUP" "$@" <<'PY'
import grp, os, pwd, stat, sys
user, group, *paths = sys.argv[1:]
uid, gid = pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
for path in paths:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    info = os.fstat(fd)
    if info.st_uid != uid or not stat.S_ISDIR(info.st_mode):
        sys.exit(f"error: {path} is not a folder of {user}'s")
    os.fchown(fd, -1, gid)
    os.fchmod(fd, 0o2750)
    os.close(fd)
PY
}
for folder in "$data" "$media" "$static" "$private" "$backups"; do no_links "$folder"; done
# The data folder holds the SQLite database (if any); nginx only passes through it.
make_dir 0711 "$data"
# Cover images: written by the site, read by nginx's group.
make_dir 0750 "$(dirname "$media")"
make_dir 0750 "$media"
web_group "$(dirname "$media")" "$media"
# Static files: written at install and upgrade by collectstatic (as $ZBOR_USER), read by everyone.
make_dir 0755 "$static"
# Encrypted documents and backups: the site's user only, never nginx.
make_dir 0700 "$private"
make_dir 0700 "$backups"
# The releases: root's (the code is read-only to the site).
install -d -m 0755 "$ZBOR_HOME" "$ZBOR_RELEASES"

# --- The database -------------------------------------------------------------------------------
database_url=$(env_value DATABASE_URL)
if [ -z "$database_url" ]; then
    say "database: SQLite in $data (DATABASE_URL is empty)"
elif [ -z "${ZBOR_PG_ADMIN_URL:-}" ]; then
    say "database: ZBOR_PG_ADMIN_URL is not set, so the role and database of DATABASE_URL must exist already"
else
    command -v psql >/dev/null || die "psql is missing (apt-get install postgresql-client)"
    # No secret on a command line (ps shows it), nor in plaintext to the server (its log may
    # record CREATE ROLE): Python reads both URLs from the environment and prints the admin URL
    # without its password, that password (for PGPASSWORD), the role, the database and the
    # role's password as a SCRAM-SHA-256 verifier, which reaches psql on its standard input.
    mapfile -t parts < <(ZBOR_URL=$database_url ZBOR_ADMIN_URL=$ZBOR_PG_ADMIN_URL "$ZBOR_PYTHON" - <<'PY'
import base64, hashlib, hmac, os, secrets, urllib.parse as u

url = u.urlsplit(os.environ["ZBOR_URL"])
password = u.unquote(url.password or "")
verifier = ""
if password.isascii() and password:  # PostgreSQL's format (RFC 5802; libpq's PQencryptPasswordConn)
    salt, iterations = secrets.token_bytes(16), 4096
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server = hmac.digest(salted, b"Server Key", "sha256")
    b64 = [base64.b64encode(raw).decode() for raw in (salt, stored, server)]
    verifier = f"SCRAM-SHA-256${iterations}:{b64[0]}${b64[1]}:{b64[2]}"
elif password:
    verifier = "non-ascii"
admin = u.urlsplit(os.environ["ZBOR_ADMIN_URL"])
host = admin.netloc.rpartition("@")[2]
netloc = host if admin.username is None else f"{admin.username}@{host}"
print(admin._replace(netloc=netloc).geturl() if admin.password is not None else admin.geturl())
print(u.unquote(admin.password or ""))
print(u.unquote(url.username or ""))
print(u.unquote(url.path.lstrip("/")))
print(verifier)
PY
    )
    admin_url=${parts[0]} admin_password=${parts[1]} role=${parts[2]} name=${parts[3]} verifier=${parts[4]}
    unset parts
    [ -n "$role" ] && [ -n "$name" ] || die "DATABASE_URL names no user or no database"
    [ "$verifier" != non-ascii ] || die "DATABASE_URL's password must be ASCII (percent-encoded in the URL)"
    say "database: role $role and database $name (created if missing)"
    # Through psql variables: the names and the verifier are quoted by format(%I, %L).
    (
        [ -z "$admin_password" ] || export PGPASSWORD=$admin_password
        psql "$admin_url" --quiet --no-psqlrc -v ON_ERROR_STOP=1 -v role="$role" -v name="$name" >/dev/null <<SQL
\set password '$verifier'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'role', NULLIF(:'password', ''))
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \gexec
SQL
    )
    # Neither the admin's password nor PGPASSWORD reaches the commands run as $ZBOR_USER.
    unset admin_password verifier PGPASSWORD
fi

# --- The release ---------------------------------------------------------------------------------
name=$(release_name "$SOURCE" "$VERSION")
if [ -L "$ZBOR_CURRENT" ] && [ "$(basename "$(readlink "$ZBOR_CURRENT")")" != "$name" ]; then
    die "Zbor is installed already ($ZBOR_CURRENT -> $(readlink "$ZBOR_CURRENT")); to move to $VERSION run: deploy/upgrade.sh $VERSION"
fi
release=$(build_release "$SOURCE" "$VERSION" | tail -n 1)
say "migrating the database"
zbor_in "$release" migrate --no-input
if [ -z "$database_url" ]; then
    # SQLite: the database and task queue only $ZBOR_USER reads (umask 077 made them so; older
    # ones may be 0644). As $ZBOR_USER: the data folder is that user's.
    for file in "$data"/{zbor,tasks}.sqlite3{,-wal,-shm}; do
        if [ -f "$file" ] && [ ! -L "$file" ]; then as_zbor chmod 600 "$file"; fi
    done
fi
if [ ! -L "$ZBOR_CURRENT" ]; then
    ln -sfn "$release" "$ZBOR_CURRENT"
fi
say "$ZBOR_CURRENT -> $(readlink "$ZBOR_CURRENT")"

# --- systemd units (copied only if missing: yours may carry this machine's address) ------------
if [ "$ZBOR_INSTALL_UNITS" = no ] || { [ "$ZBOR_INSTALL_UNITS" = auto ] && [ ! -d /run/systemd/system ]; }; then
    say "systemd units: not installed (ZBOR_INSTALL_UNITS=$ZBOR_INSTALL_UNITS; no running systemd)"
else
    for unit in zbor-web.service zbor-worker.service zbor-backup.service zbor-backup.timer zbor-failure-mail@.service; do
        if [ -e "$ZBOR_SYSTEMD_DIR/$unit" ]; then
            say "$ZBOR_SYSTEMD_DIR/$unit exists: left as it is"
            continue
        fi
        sed -e "s#/opt/zbor/current#$ZBOR_CURRENT#g" -e "s#/etc/zbor/zbor.env#$ZBOR_ENV_FILE#g" \
            -e "s#^User=zbor\$#User=$ZBOR_USER#" -e "s#^Group=zbor\$#Group=$ZBOR_GROUP#" \
            "$release/deploy/systemd/$unit" >"$ZBOR_SYSTEMD_DIR/$unit"
        say "wrote $ZBOR_SYSTEMD_DIR/$unit: set --host, --workers and the /readyz address in it"
    done
    systemctl daemon-reload
fi

say "installed $(basename "$release"). Next: zbor check --deploy, then systemctl enable --now zbor-web zbor-worker, and once $(dirname "$ZBOR_ENV_FILE")/backup-recipients.txt holds the keepers' keys, zbor-backup.timer (docs/deploy.md)"
