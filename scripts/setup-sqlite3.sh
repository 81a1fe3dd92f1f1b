#!/usr/bin/env bash
# Builds a sqlite3 shell whose `.recover` works (Debian's is built without the DBPAGE
# virtual table, so its `.recover` fails with "SQL logic error"). Source: Debian's own
# source package of sqlite3, so the version matches the distribution and no extra
# download host is involved. Result: $CACHE_DIR/sqlite3/bin/sqlite3 (idempotent).
source "$(dirname "$0")/lib.sh"

OUT="$CACHE_DIR/sqlite3"
BIN="$OUT/bin/sqlite3"
if [ -x "$BIN" ] && "$BIN" :memory: 'select 1 from sqlite_dbpage limit 0' >/dev/null 2>&1; then
  exit 0
fi

apt_install dpkg-dev build-essential tcl libreadline-dev zlib1g-dev

# apt-get source needs a deb-src entry: add a twin of each existing deb entry.
ensure_deb_src() {
  if grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then return 0; fi
  local twin=/etc/apt/sources.list.d/plexlift-deb-src.sources
  log "adding deb-src twins of the existing apt sources ($twin)"
  local tmp; tmp="$(mktemp)"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    sed -E 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' "$f" >> "$tmp"
    printf '\n' >> "$tmp"
  done
  if [ -f /etc/apt/sources.list ]; then
    sed -nE 's/^deb[[:space:]]/deb-src /p' /etc/apt/sources.list > "${tmp}.list"
    [ -s "${tmp}.list" ] && as_root cp "${tmp}.list" /etc/apt/sources.list.d/plexlift-deb-src.list
    rm -f "${tmp}.list"
  fi
  [ -s "$tmp" ] && as_root cp "$tmp" "$twin"
  rm -f "$tmp"
  as_root apt-get update -qq
  APT_UPDATED=1
}
ensure_deb_src

WORK="$CACHE_DIR/sqlite3-src"
rm -rf "$WORK"; mkdir -p "$WORK"
# The log keeps apt's and dpkg's chatter (unsigned-source notices) out of the test output.
if ! ( cd "$WORK" && apt-get source -qq --download-only sqlite3 && dpkg-source -x --skip-patches ./*.dsc src ) >"$WORK/fetch.log" 2>&1; then
  cat "$WORK/fetch.log" >&2; exit 1
fi
SRC="$WORK/src"
log "building sqlite3 shell with DBPAGE from $(basename "$WORK"/*.dsc .dsc)"
mkdir -p "$WORK/build"
if ! ( cd "$WORK/build" && "$SRC/configure" --disable-tcl && make sqlite3.c shell.c ) >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log" >&2; exit 1
fi
mkdir -p "$OUT/bin"
gcc -O2 -DSQLITE_ENABLE_DBPAGE_VTAB -DSQLITE_ENABLE_DBSTAT_VTAB -DSQLITE_ENABLE_FTS4 -DSQLITE_ENABLE_FTS5 \
  -DSQLITE_ENABLE_RTREE -DSQLITE_ENABLE_JSON1 -DHAVE_READLINE -DSQLITE_THREADSAFE=0 \
  -I"$WORK/build" "$WORK/build/shell.c" "$WORK/build/sqlite3.c" -o "$BIN.tmp" -lreadline -lz -lm -ldl
mv "$BIN.tmp" "$BIN"
rm -rf "$WORK"
log "sqlite3 with .recover: $BIN ($("$BIN" --version | cut -d' ' -f1))"
