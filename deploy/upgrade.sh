#!/usr/bin/env bash
# Moves an installed Zbor (deploy/install.sh) to another release, with no request dropped:
#
#   deploy/upgrade.sh [--allow-contract] VERSION     # as root; VERSION: a tag (v0.6.0) or commit
#
# 1. builds releases/<VERSION> beside the running one (virtualenv, translations, static files);
# 2. prints `zbor migrate --plan` and refuses one that removes or renames (RemoveField,
#    DeleteModel, RenameField, RenameModel: the running release still uses what they take away)
#    unless --allow-contract (docs/deploy.md, "Releases and migrations": expand, then contract);
# 3. migrates, switches the `current` link;
# 4. restarts the app servers one at a time, each only once the previous one answers /readyz,
#    then the task workers, and migrates once more (post_migrate hooks tidy what an old server
#    wrote meanwhile). If an app server does not become ready, the link goes back to the
#    previous release, every app server already moved is restarted on it, and the script exits
#    non-zero. The database is never migrated backwards: the previous release runs on the new
#    schema (which only added to it). After --allow-contract it cannot: then nothing is rolled
#    back, the script says so and exits non-zero.
# From step 3 on, $ZBOR_HOME/upgrading names both releases until the upgrade is done or rolled
# back: run again after an interruption (a dropped SSH session), the same command finishes it
# (restarts every unit, migrates once more) instead of finding the new release current already.
#
# The same settings as install.sh (ZBOR_HOME, ZBOR_ENV_FILE, ZBOR_USER, ZBOR_SOURCE, ...), and:
#   ZBOR_WEB_UNITS      app server units, restarted in this order (default: zbor-web)
#   ZBOR_READY_URLS     each one's /readyz, in the same order: the --host and --port of its unit
#                       (http://10.0.0.11:8000/readyz); required when ZBOR_WEB_UNITS names any
#   ZBOR_WORKER_UNITS   task worker units (default: zbor-worker; "" for none on this machine)
#   ZBOR_READY_SECONDS  how long an app server may take to become ready (default: 60)
#   ZBOR_RESTART_PAUSE  seconds between one app server being ready and restarting the next
#                       (default: 15). nginx takes a server it could not reach out for its
#                       fail_timeout (10 s in deploy/nginx.conf) even once it is back: restarting
#                       the next one sooner would leave nginx with no server to send requests to.
# Units are restarted with `systemctl restart UNIT` (the units' ExecStartPost waits for readiness
# too). On a machine with several app servers, name them all here: each machine's own units,
# or run the script once per machine with the first one doing the migration.
set -euo pipefail
# shellcheck source=deploy/release-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/release-lib.sh"

allow_contract=no
if [ "${1:-}" = --allow-contract ]; then
    allow_contract=yes
    shift
fi
[ $# = 1 ] || die "usage: deploy/upgrade.sh [--allow-contract] VERSION"
VERSION=$1
read -r -a web_units <<<"${ZBOR_WEB_UNITS-zbor-web}"
read -r -a ready_urls <<<"${ZBOR_READY_URLS-}"
read -r -a worker_units <<<"${ZBOR_WORKER_UNITS-zbor-worker}"
: "${ZBOR_READY_SECONDS:=60}"
: "${ZBOR_RESTART_PAUSE:=15}"
[ ${#web_units[@]} = 0 ] || [ ${#ready_urls[@]} != 0 ] ||
    die "set ZBOR_READY_URLS to the /readyz address of each unit in ZBOR_WEB_UNITS (${web_units[*]}), \
the --host and --port in its unit file: ZBOR_READY_URLS=http://10.0.0.11:8000/readyz deploy/upgrade.sh $VERSION"
[ ${#web_units[@]} = ${#ready_urls[@]} ] ||
    die "ZBOR_WEB_UNITS names ${#web_units[@]} units but ZBOR_READY_URLS ${#ready_urls[@]} addresses"
command -v curl >/dev/null || die "curl is missing (apt-get install curl)"
[ -L "$ZBOR_CURRENT" ] || die "$ZBOR_CURRENT is not a link to a release: install first (deploy/install.sh)"
SOURCE=$(zbor_source)
old=$(readlink -f "$ZBOR_CURRENT")
# An upgrade that did not finish: its previous release, its new one, whether it contracted.
state=$ZBOR_HOME/upgrading
resume=no contracted=no
if [ -f "$state" ]; then
    read -r was_old was_new contracted <"$state"
    target=$(release_name "$SOURCE" "$VERSION")
    [ "$(basename "$was_new")" = "$target" ] ||
        die "the upgrade from $(basename "$was_old") to $(basename "$was_new") did not finish: run \
deploy/upgrade.sh $(basename "$was_new") first (or roll back by hand, docs/deploy.md, then remove $state)"
    old=$was_old resume=yes
fi

# --- 1. build ----------------------------------------------------------------------------------
started=$SECONDS
new=$(build_release "$SOURCE" "$VERSION" | tail -n 1)
new=$(readlink -f "$new")
if [ $resume = yes ]; then
    say "finishing the upgrade from $(basename "$old") to $(basename "$new") ($state)"
elif [ "$new" = "$old" ]; then
    say "$(basename "$new") is running already: nothing to do"
    exit 0
fi
say "built in $((SECONDS - started)) s"

# --- 2. the plan -------------------------------------------------------------------------------
plan=$(zbor_in "$new" migrate --plan)
printf '%s\n' "$plan"
contracting=$(printf '%s\n' "$plan" | grep -E '^ +(Remove field|Delete model|Rename field|Rename model) ' || true)
[ -z "$contracting" ] || contracted=yes
if [ -n "$contracting" ] && [ $allow_contract = no ]; then
    printf '%s\n' "$contracting" >&2
    die "the plan removes or renames what $(basename "$old") may still use (above). Upgrade to the release \
before it first; if $(basename "$old") no longer uses it, run again with --allow-contract. Nothing was changed: \
$(basename "$new") is built, the database and $ZBOR_CURRENT are as they were."
fi

# --- 3. migrate and switch ---------------------------------------------------------------------
printf '%s %s %s\n' "$old" "$new" "$contracted" >"$state"
say "migrating the database (the running release keeps working on the new schema)"
zbor_in "$new" migrate --no-input
switch_to() {
    ln -sfn "$1" "$ZBOR_CURRENT.next"
    mv -T "$ZBOR_CURRENT.next" "$ZBOR_CURRENT"
}
switch_to "$new"
say "$ZBOR_CURRENT -> $new"

# --- 4. restart one at a time ------------------------------------------------------------------
ready() {   # ready URL: answers 200 within ZBOR_READY_SECONDS
    local deadline=$((SECONDS + ZBOR_READY_SECONDS))
    until curl --fail --silent --output /dev/null --max-time 5 "$1"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 1
    done
}
roll_back() {   # roll_back INDEX WHY: back to the old release for units 0..INDEX, then exit 1
    local last=$1 why=$2 i
    printf 'error: %s\n' "$why" >&2
    if [ "$contracted" = yes ]; then
        die "not rolling back: with --allow-contract the database no longer has what $(basename "$old") \
uses. $ZBOR_CURRENT stays at $(basename "$new"); make ${web_units[$last]} start (journalctl -u \
${web_units[$last]}), then run deploy/upgrade.sh --allow-contract $VERSION again to finish"
    fi
    switch_to "$old"
    printf 'error: %s points back at %s; restarting the app servers already moved, one at a time\n' \
        "$ZBOR_CURRENT" "$old" >&2
    for ((i = last; i >= 0; i--)); do
        if systemctl restart "${web_units[$i]}" && ready "${ready_urls[$i]}"; then
            printf 'error: %s runs %s again\n' "${web_units[$i]}" "$(basename "$old")" >&2
        else
            printf 'error: %s does not answer %s on %s either: look at journalctl -u %s\n' \
                "${web_units[$i]}" "${ready_urls[$i]}" "$(basename "$old")" "${web_units[$i]}" >&2
        fi
    done
    rm -f "$state"
    die "upgrade to $(basename "$new") stopped and rolled back; the database stays migrated (the previous \
release runs on it); nothing was migrated backwards"
}
for i in "${!web_units[@]}"; do
    unit=${web_units[$i]} url=${ready_urls[$i]}
    if [ "$i" -gt 0 ]; then
        say "waiting $ZBOR_RESTART_PAUSE s for the proxy to take ${web_units[$((i - 1))]} back"
        sleep "$ZBOR_RESTART_PAUSE"
    fi
    step=$SECONDS
    say "restarting $unit"
    systemctl restart "$unit" || roll_back "$i" "systemctl restart $unit failed"
    ready "$url" || roll_back "$i" "$unit did not answer 200 at $url within $ZBOR_READY_SECONDS s on $(basename "$new")"
    say "$unit is ready on $(basename "$new") ($((SECONDS - step)) s)"
done
for unit in "${worker_units[@]}"; do
    say "restarting $unit"
    systemctl restart "$unit" || die "systemctl restart $unit failed: the app servers run $(basename "$new"); \
look at journalctl -u $unit"
done
# Once no server runs the old release: migrate again. Nothing is left to apply, but the apps'
# post_migrate hooks tidy what an old server wrote meanwhile (recovery codes it handed out in
# plaintext are hashed: CHANGELOG 0.6.0).
zbor_in "$new" migrate --no-input >/dev/null
zbor_in "$new" migrate --check >/dev/null || die "migrate --check: the database does not match $(basename "$new")"
rm -f "$state"
say "upgraded from $(basename "$old") to $(basename "$new") in $((SECONDS - started)) s"
