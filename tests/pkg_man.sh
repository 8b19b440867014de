#!/usr/bin/env bash
# The man page and the bash completion (issue 15). The page (generated at build time from the
# --help texts by cmake/clgan_man.cmake) renders without a warning and holds every command and
# every option that `clgan --help` and `clgan <command> --help` list, so the two cannot drift
# apart unnoticed; the completion script loads in bash, registers for clgan, and completes
# commands, options, presets after --model, losses, optimizers and device selectors.
# usage: pkg_man.sh BUILD_DIR SOURCE_DIR VERSION CLGAN_BINARY
set -u
build=$1
src=$2
version=$3
clgan=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
source "$src/tests/lib_cli.sh"
page=$build/clgan.1

# ---- The man page -------------------------------------------------------------------------------
[ -s "$page" ] && ok "clgan.1 was generated" || { fail "no $page"; finish; }
groff -man -Tascii -P-cbou -ww -Wbreak "$page" 2>"$tmp/warnings" >"$tmp/man.txt"
[ -s "$tmp/man.txt" ] && ok "groff renders clgan.1" || fail "groff rendered nothing"
[ ! -s "$tmp/warnings" ] && ok "no groff warnings (but for unbreakable network specs)" || { fail "groff warnings:"; head -5 "$tmp/warnings"; }
out=$(MANWIDTH=100 man -l "$page" 2>&1 </dev/null) && grep -q "clgan $version" <<<"$out" &&
  ok "man -l shows clgan $version" || fail "man -l failed or lacks the version"
grep -q "^NAME" "$tmp/man.txt" && grep -q "^SYNOPSIS" "$tmp/man.txt" && grep -q "^ENVIRONMENT" "$tmp/man.txt" &&
  grep -q "^EXIT STATUS" "$tmp/man.txt" && ok "NAME, SYNOPSIS, ENVIRONMENT, EXIT STATUS sections" || fail "a section is missing"

# Every command of clgan --help, and every option of its --help, is in the page.
commands=$("$clgan" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
[ "$(wc -w <<<"$commands")" -ge 7 ] && ok "clgan --help lists $(wc -w <<<"$commands") commands" || fail "commands: '$commands'"
[ "$commands" = "$("$clgan" --list commands)" ] && ok "clgan --list commands matches --help" || fail "clgan --list commands differs from --help"
missing=0 checked=0
check_help() { # the section title and each option of `clgan ARGS --help`
  local title="clgan $*"
  grep -qF "$title" "$tmp/man.txt" || { fail "the page has no section '$title'"; missing=$((missing + 1)); }
  for opt in $("$clgan" "$@" --help | sed -n 's/^  \(--[A-Za-z0-9-]*\).*/\1/p'); do
    checked=$((checked + 1))
    # The section of this command runs up to the next "   clgan " heading.
    awk -v t="   $title" -v o="$opt" '$0 == t { on = 1; next } on && /^   clgan / { on = 0 }
      on && index($0, o) { found = 1 } END { exit !found }' "$tmp/man.txt" ||
      { fail "'$title' in the page lacks $opt"; missing=$((missing + 1)); }
  done
}
for c in $commands; do
  grep -qE "^       $c( |$)" "$tmp/man.txt" || { fail "COMMANDS lacks $c"; missing=$((missing + 1)); }
  check_help "$c"
done
for s in $("$clgan" classifier --help | sed -n '/^subcommands:/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p'); do
  check_help classifier "$s"
done
[ "$missing" = 0 ] && ok "the page holds all $checked options of the help texts" || fail "$missing commands or options missing from the page"
for v in $("$clgan" --help | sed -n 's/^  \(CLGAN_[A-Z_]*\) .*/\1/p'); do
  grep -q "$v" "$tmp/man.txt" || fail "ENVIRONMENT lacks $v"
done

# ---- Bash completion ----------------------------------------------------------------------------
comp=$src/share/bash-completion/clgan
bin=$(dirname "$clgan")
complete_at() { # complete_at WORD...: the completions of the last word (may be ""), one a line
  PATH="$bin:$PATH" bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _clgan
    printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
out=$(bash -c 'source "$1" && complete -p clgan' _ "$comp" 2>&1) && grep -q "_clgan" <<<"$out" &&
  ok "complete -p clgan: $out" || fail "completion not registered: $out"
want=$("$clgan" --list presets | sort)
got=$(complete_at clgan train --model "" | sort)
[ -n "$want" ] && [ "$got" = "$want" ] && ok "clgan train --model <TAB>: the presets" || fail "--model completes to '$got', want '$want'"
# The presets starting with "dcg", as the binary lists them: completion must offer exactly these.
want=$("$clgan" --list presets | grep '^dcg' | sort | tr '\n' ' ')
got=$(complete_at clgan train --model dcg | sort | tr '\n' ' ')
for p in dcgan dcgan-hinge-ema; do [[ " $want" == *" $p "* ]] || want="($p missing from: $want)"; done
[ "$got" = "$want" ] && ok "--model dcg<TAB>: $got" || fail "--model dcg completes to '$got', not '$want'"
got=$(complete_at clgan "" | tr '\n' ' ')
[ "$got" = "$(tr '\n' ' ' <<<"$commands")" ] && ok "clgan <TAB>: the commands" || fail "clgan <TAB>: '$got'"
got=$(complete_at clgan sample --sc)
[ "$got" = "--scale" ] && ok "clgan sample --sc<TAB>: --scale" || fail "clgan sample --sc completes to '$got'"
got=$(complete_at clgan train --loss "" | sort | tr '\n' ' ')
[ "$got" = "$("$clgan" --list losses | sort | tr '\n' ' ')" ] && grep -q hinge <<<"$got" && ok "--loss <TAB>: $got" || fail "--loss completes to '$got'"
got=$(complete_at clgan train --optimizer-g "" | sort | tr '\n' ' ')
grep -q adam <<<"$got" && ok "--optimizer-g <TAB>: $got" || fail "--optimizer-g completes to '$got'"
got=$(complete_at clgan classifier train --ep)
[ "$got" = "--epochs" ] && ok "clgan classifier train --ep<TAB>: --epochs" || fail "classifier train --ep completes to '$got'"
n=$(complete_at clgan train "" | grep -c '^--')
want=$("$clgan" train --help | grep -c '^  --')
[ "$n" = "$want" ] && ok "clgan train <TAB>: all $n options" || fail "clgan train <TAB>: $n options, want $want"
if "$clgan" devices >/dev/null 2>&1; then
  got=$(complete_at clgan sample --device "" | tr '\n' ' ')
  grep -q "^0 0:0 " <<<"$got" && ok "--device <TAB>: $got" || fail "--device completes to '$got'"
fi
finish
