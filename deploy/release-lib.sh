# Shared by deploy/install.sh and deploy/upgrade.sh (sourced, not run): settings, helpers, and
# building one release directory. Every path and name can be changed through the environment;
# the defaults are the production layout of docs/deploy.md.

: "${ZBOR_USER:=zbor}"                      # the system user the site runs as
: "${ZBOR_GROUP:=$ZBOR_USER}"
: "${ZBOR_WEB_GROUP:=www-data}"             # nginx's group: reads the cover images (if it exists)
: "${ZBOR_HOME:=/opt/zbor}"                 # releases/<version>/ and the `current` link
: "${ZBOR_ENV_FILE:=/etc/zbor/zbor.env}"    # the environment file (deploy/zbor.env.example)
: "${ZBOR_BACKUP_DIR:=/var/backups/zbor}"
: "${ZBOR_PYTHON:=python3}"                 # makes each release's .venv
: "${ZBOR_PIP_ARGS:=}"                      # extra pip arguments (a local wheel directory, a proxy)
# A failing step inside $(...) (building a release) must stop the script too.
shopt -s inherit_errexit
ZBOR_RELEASES=$ZBOR_HOME/releases
ZBOR_CURRENT=$ZBOR_HOME/current

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as $ZBOR_USER (root switches with runuser; anyone else runs it as themselves).
as_zbor() {
    if [ "$(id -u)" = 0 ] && [ "$(id -un)" != "$ZBOR_USER" ]; then
        runuser -u "$ZBOR_USER" -- "$@"
    else
        "$@"
    fi
}

# zbor_in RELEASE_DIR ARGS...: `zbor ARGS` in that release, with the environment file, as $ZBOR_USER,
# umask 077: what it creates (the SQLite database and task queue, their -wal and -shm) only
# that user reads. zbor_static_in: as $ZBOR_USER with umask 022, for collectstatic (nginx reads
# the static files); zbor_root_in: the same as this script's user, for what writes into the
# release itself (root's). Both with ZBOR_TASKS_IMMEDIATE=1: starting Django then never creates
# the SQLite task queue ($ZBOR_DATA_DIR/tasks.sqlite3) readable by all, or owned by root (which
# $ZBOR_USER could then not write: "readonly database").
ZBOR_RUN='umask 077; set -a; . "$0"; set +a; exec .venv/bin/zbor "$@"'
ZBOR_BUILD_RUN='umask 022; set -a; . "$0"; set +a; export ZBOR_TASKS_IMMEDIATE=1; exec .venv/bin/zbor "$@"'
zbor_in() {
    local dir=$1
    shift
    as_zbor env -C "$dir" sh -c "$ZBOR_RUN" "$ZBOR_ENV_FILE" "$@"
}
zbor_static_in() {
    local dir=$1
    shift
    as_zbor env -C "$dir" sh -c "$ZBOR_BUILD_RUN" "$ZBOR_ENV_FILE" "$@"
}
zbor_root_in() {
    local dir=$1
    shift
    env -C "$dir" sh -c "$ZBOR_BUILD_RUN" "$ZBOR_ENV_FILE" "$@"
}

# The source: a git checkout (ZBOR_SOURCE, else the one this script lives in).
zbor_source() {
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    local source=${ZBOR_SOURCE:-$here}
    git -C "$source" rev-parse --git-dir >/dev/null 2>&1 || die "$source is not a git checkout (set ZBOR_SOURCE)"
    printf '%s\n' "$source"
}

# release_name SOURCE VERSION: the release directory's name, the tag when VERSION is one (v0.6.0),
# else the commit's first 12 hex digits.
release_name() {
    local source=$1 version=$2 commit
    commit=$(git -C "$source" rev-parse --verify --quiet "$version^{commit}") ||
        die "$version is neither a tag nor a commit in $source (git fetch --tags?)"
    if git -C "$source" show-ref --verify --quiet "refs/tags/$version"; then
        printf '%s\n' "$version"
    else
        printf '%s\n' "${commit:0:12}"
    fi
}

# build_release SOURCE VERSION: /opt/zbor/releases/<name> with its own .venv, translations and
# static files (collected into ZBOR_STATIC_ROOT), owned by root (the code is read-only to the site). Done once: a release with
# its .complete marker is left as it is; a half-built one (an interrupted run) is built again.
# Prints the release directory on the last line.
build_release() {
    local source=$1 version=$2 name dir commit
    name=$(release_name "$source" "$version")
    dir=$ZBOR_RELEASES/$name
    commit=$(git -C "$source" rev-parse "$version^{commit}")
    if [ -f "$dir/.complete" ]; then
        say "release $name ($commit) is already built in $dir" >&2
    else
        say "building release $name ($commit) in $dir" >&2
        rm -rf "$dir"
        mkdir -p "$dir"
        git -C "$source" archive --format=tar "$commit" | tar -x -C "$dir"
        "$ZBOR_PYTHON" -m venv "$dir/.venv"
        # Editable (-e): the settings find locale/ and the rest of the release through the source
        # tree, which stays where it is, read-only, for as long as the release is kept.
        # shellcheck disable=SC2086 # ZBOR_PIP_ARGS is a list of arguments
        "$dir/.venv/bin/pip" install --quiet --disable-pip-version-check $ZBOR_PIP_ARGS \
            -c "$dir/constraints.txt" -e "$dir" >&2
        zbor_root_in "$dir" compiletranslations >&2
        printf '%s\n' "$commit" >"$dir/.complete"
    fi
    # Static files go to ZBOR_STATIC_ROOT, shared by every release: never --clear, the pages of
    # the release still running refer to the old hashed names. Once per release and static
    # folder (.collected lists the folders done; post-processing every file takes a while).
    local static
    static=$(env_value ZBOR_STATIC_ROOT)
    static=${static:-$dir/staticfiles}
    if [ "$(env_value DJANGO_SETTINGS_MODULE)" = config.settings.dev ]; then
        say "development settings serve static files from the release itself: nothing to collect" >&2
    elif ! grep -qxF "$static" "$dir/.collected" 2>/dev/null; then
        say "collecting static files into $static" >&2
        # Into the release (no ZBOR_STATIC_ROOT): as root, who owns it; anywhere else as
        # $ZBOR_USER, who owns that folder (root never writes inside the site user's folders).
        case $static in
            "$dir"/*) zbor_root_in "$dir" collectstatic --no-input --verbosity 0 >&2 ;;
            *) zbor_static_in "$dir" collectstatic --no-input --verbosity 0 >&2 ;;
        esac
        printf '%s\n' "$static" >>"$dir/.collected"
    fi
    printf '%s\n' "$dir"
}

# The values the environment file sets (read in a subshell; nothing leaks into this shell).
env_value() {
    (set -a && . "$ZBOR_ENV_FILE" && set +a && eval "printf '%s\n' \"\${$1:-}\"")
}
