#!/usr/bin/env bash
# Every reference from the source to a note under docs/ resolves: the file exists, and each section cited right
# after its name is a heading of it ("§2.4" needs "### 2.4 ...", "§2" needs "## 2. ..."). Cited forms: "§2.4",
# "§2.1, §4", "§1.3 and §1.5 pitfalls 2 and 5", "§2.4-§2.5", "§1.2-1.3", "§2-§4", "§3-4" (a range checks every
# section from one end to the other); the list ends at anything else ("§5; the paper's §4.6" cites §5 only).
# A design note named without its docs/ path (a bare one, or the old ../shared/design/ path) fails too.
# Scope: tracked files under the source folders, Makefile and README.md; never results/, build*/, docs/ itself or
# the fuzz corpus (seeds copied from real files).
#   tests/docs/doc_refs_test.sh SOURCE_DIR        (ctest: doc_refs)
set -euo pipefail
root=${1:?usage: tests/docs/doc_refs_test.sh SOURCE_DIR}
cd "$root"
export LC_ALL=C  # byte semantics: the section sign is matched as its two UTF-8 bytes

self=tests/docs/doc_refs_test.sh  # its own comments show the forms; they are not references
folders='core|datasets|models|trainers|threats|experiments|reports|apps|bench|tools|tests|examples|cmake|scripts'
in_scope="^(($folders)/|(Makefile|README\.md)\$)"
out_of_scope='^((results|build[^/]*|docs)/|tests/fuzz/corpus/)'
if [[ -e .git ]] && command -v git >/dev/null; then
  listing=$(git ls-files)
else
  listing=$(find . -type f ! -path './.git/*' | sed 's|^\./||' | sort)
fi
files=()
while IFS= read -r f; do
  [[ -f $f && $f != "$self" && $f =~ $in_scope && ! $f =~ $out_of_scope ]] && files+=("$f")
done <<<"$listing"
((${#files[@]})) || { echo "doc_refs: no source files found under $root" >&2; exit 1; }

S='§'
num='[0-9]+(\.[0-9]+)*'
item="$S$num(-($S)?$num)?"
sections="( $item((, ?| and | ?& ?)$item)*)?"
notes='PAPER|ATTACKS|ARCHITECTURE|STYLE'

fail=0 refs=0 checked=0
declare -A docs_seen=() files_seen=()
report() { echo "$1"; fail=1; }

# A note named without docs/ before it.
while IFS= read -r hit; do
  file=${hit%%:*} rest=${hit#*:}
  line=${rest%%:*} tok=${rest#*:}
  name=${tok##*/}
  [[ $name =~ ^($notes)\.md$ ]] || continue  # e.g. MYPAPER.md: not one of the notes
  [[ $tok == docs/"$name" || $tok == */docs/"$name" ]] && continue
  report "$file:$line: $tok: write docs/$name"
done < <(grep -nIoE "[A-Za-z0-9_./-]*($notes)\.md" -- "${files[@]}" || true)

# heading FILE NUMBER: true when FILE has a Markdown heading numbered NUMBER ("## 2." / "### 2.4 Title").
heading() { grep -qE "^#+ +${2//./\\.}\.?( |$)" "$1"; }

# Every docs/*.md reference with the sections cited right after it.
while IFS= read -r hit; do
  file=${hit%%:*} rest=${hit#*:}
  line=${rest%%:*} tok=${rest#*:}
  doc=${tok%%.md*}.md
  doc=docs/${doc#*docs/}
  refs=$((refs + 1))
  files_seen[$file]=1
  if [[ ! -f $doc ]]; then
    report "$file:$line: $doc: no such file"
    continue
  fi
  docs_seen[$doc]=1
  cited=${tok#*.md}
  [[ -n $cited ]] || continue
  while IFS= read -r range; do
    from=${range%%-*} to=${range#*-}
    to=${to#"$S"}
    wanted=("$from")
    if [[ $range == *-* ]]; then
      # Same parent and depth (2-4, 1.2-1.3): every section between the ends; otherwise the two ends.
      a=$((10#${from##*.})) b=$((10#${to##*.}))
      if [[ ($from == *.* && $to == *.* && ${from%.*} == "${to%.*}") || ($from != *.* && $to != *.*) ]] &&
         ((a <= b)); then
        prefix=''
        [[ $from == *.* ]] && prefix=${from%.*}.
        wanted=()
        for ((k = a; k <= b; k++)); do wanted+=("$prefix$k"); done
      else
        wanted+=("$to")
      fi
    fi
    for n in "${wanted[@]}"; do
      checked=$((checked + 1))
      heading "$doc" "$n" || report "$file:$line: $doc §$n: no such section"
    done
  done < <(grep -oE "$num(-($S)?$num)?" <<<"$cited")
done < <(grep -nIoE "docs/[A-Za-z0-9_./-]+\.md$sections" -- "${files[@]}" || true)

if ((fail)); then
  echo "doc_refs: FAIL (fix the reference, or the heading in docs/)" >&2
  exit 1
fi
echo "doc_refs: ok: $refs references in ${#files_seen[@]} files to ${#docs_seen[@]} documents under docs/," \
  "$checked cited sections found"
