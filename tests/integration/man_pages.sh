#!/usr/bin/env bash
# The man pages and the example configuration (man/) against the programs
# they describe: every key the configuration parser knows (dpdkudp-run
# --list-keys) is in dpdkudp.env(5) and in the example dpdkudp.env, and
# nothing else is; the example's defaults parse; every option of
# dpdkudp-run --help and dpdkudp-stat --help is in its page; every page
# renders without a warning and has a NAME line whatis(1) can read.
# No root needed.
#   man_pages.sh BUILD_DIR
set -euo pipefail
BUILD=$1
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
RUN="$BUILD/tools/dpdkudp-run"
STAT="$BUILD/tools/dpdkudp-stat"
MAN="$BUILD/man"
export DPDKUDP_CONFIG=  # never the host's /etc/dpdkudp.env
WORK=$(mktemp -d)
on_exit "rm -rf $WORK"
for f in "$RUN" "$STAT" "$MAN/dpdkudp-run.1" "$MAN/dpdkudp-stat.1" "$MAN/dpdkudp.env.5" "$MAN/dpdkudp.7" \
  "$MAN/dpdkudp.env"; do
  [ -f "$f" ] || fail "$f is missing (not built?)"
done

status=0
bad() {
  echo "FAIL: $*"
  status=1
}

# A page as plain text: wide lines and no hyphenation, so that a name is
# never split across lines.
plain() { groff -man -Tascii -rLL=300n -rHY=0 -P-cbou "$1" 2>/dev/null; }

# 1. Keys: the parser's, the page's and the example's are the same set.
"$RUN" --list-keys >"$WORK/keys"
[ -s "$WORK/keys" ] || fail "dpdkudp-run --list-keys printed nothing"
grep -qvE '^DPDKUDP_[A-Z0-9_]+$' "$WORK/keys" && fail "dpdkudp-run --list-keys: not a key: $(grep -vE '^DPDKUDP_[A-Z0-9_]+$' "$WORK/keys" | head -1)"
sort -u "$WORK/keys" -o "$WORK/keys"
plain "$MAN/dpdkudp.env.5" | sed -n '/^KEYS/,/^EXAMPLE/p' | grep -oE '^ {7}DPDKUDP_[A-Z0-9_]+(, DPDKUDP_[A-Z0-9_]+)*$' |
  tr ',' '\n' | tr -d ' ' | sort -u >"$WORK/page_keys"
grep -oE '^#DPDKUDP_[A-Z0-9_]+=' "$MAN/dpdkudp.env" | tr -d '#=' | sort -u >"$WORK/example_keys"
if missing=$(comm -23 "$WORK/keys" "$WORK/page_keys") && [ -n "$missing" ]; then
  bad "keys the parser knows but dpdkudp.env(5) (README.md's table) does not list: $(echo $missing)"
elif extra=$(comm -13 "$WORK/keys" "$WORK/page_keys") && [ -n "$extra" ]; then
  bad "keys in dpdkudp.env(5) (README.md's table) that the parser does not know: $(echo $extra)"
else
  pass "dpdkudp.env(5) lists exactly the parser's $(wc -l <"$WORK/keys") keys"
fi
if cmp -s "$WORK/keys" "$WORK/example_keys"; then
  pass "the example dpdkudp.env has every key, commented out"
else
  bad "the example dpdkudp.env's keys differ from the parser's: $(diff "$WORK/keys" "$WORK/example_keys" | grep '^[<>]' | tr '\n' ' ')"
fi

# The example's defaults are values the parser takes: uncomment every key
# that has one and validate the file (--backend off: nothing is opened).
sed -nE 's/^#(DPDKUDP_[A-Z0-9_]+=.+)$/\1/p' "$MAN/dpdkudp.env" >"$WORK/defaults.env"
if out=$("$RUN" --config "$WORK/defaults.env" --backend off --check 2>&1); then
  pass "the example's $(wc -l <"$WORK/defaults.env") defaults, uncommented, are a valid configuration"
else
  bad "the example's defaults do not parse: $out"
fi
# The page's EXAMPLE section names only real keys.
plain "$MAN/dpdkudp.env.5" | sed -n '/^EXAMPLE/,/^FILES/p' | grep -oE 'DPDKUDP_[A-Z0-9_]+=' | tr -d '=' | sort -u \
  >"$WORK/example_section_keys"
if unknown=$(comm -13 "$WORK/keys" "$WORK/example_section_keys") && [ -n "$unknown" ]; then
  bad "dpdkudp.env(5)'s EXAMPLE uses unknown keys: $(echo $unknown)"
else
  pass "dpdkudp.env(5)'s EXAMPLE uses only known keys"
fi

# 2. Options: every option of a program's --help is in its page.
for prog in dpdkudp-run dpdkudp-stat; do
  "$BUILD/tools/$prog" --help | grep -E '^ +-' | awk '{print $1}' | tr ',' '\n' | grep -E '^-' | sort -u \
    >"$WORK/$prog.options"
  [ -s "$WORK/$prog.options" ] || fail "$prog --help lists no option"
  plain "$MAN/$prog.1" >"$WORK/$prog.txt"
  missing=()
  while read -r opt; do
    grep -qE -- "(^|[ ,])$opt([ ,=]|$)" "$WORK/$prog.txt" || missing+=("$opt")
  done <"$WORK/$prog.options"
  if [ ${#missing[@]} -eq 0 ]; then
    pass "$prog($(basename "$MAN/$prog.1" | cut -d. -f2)) has all $(wc -l <"$WORK/$prog.options") options of $prog --help"
  else
    bad "$prog.1 lacks options of $prog --help: ${missing[*]}"
  fi
done
grep -q -- '--list-keys' "$WORK/dpdkudp-run.options" || bad "dpdkudp-run --help does not show --list-keys"

# 3. Every page renders without a warning (groff's, and man's as lintian
# runs it) and has a NAME line whatis(1) reads.
for page in dpdkudp-run.1 dpdkudp-stat.1 dpdkudp.env.5 dpdkudp.7; do
  warnings=$( { LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$MAN/$page"; } 2>&1)
  warnings+=$( { LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$MAN/$page" >/dev/null; } 2>&1)
  if [ -n "$warnings" ]; then
    bad "$page: warnings: $(echo "$warnings" | head -3)"
  elif ! whatis_line=$(lexgrog "$MAN/$page" 2>&1); then
    bad "$page: no NAME line whatis(1) can read: $whatis_line"
  else
    pass "$page renders without warnings; whatis: ${whatis_line#*: }"
  fi
done
exit $status
