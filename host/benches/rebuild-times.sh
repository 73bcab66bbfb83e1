#!/bin/bash
# usage: host/benches/rebuild-times.sh <checkout> <backend page file> <runtime file> <label> <bin package>
# e.g.  host/benches/rebuild-times.sh . host/backend/src/html.rs host/runtime/src/afk.rs after nexori
# (BENCHMARKS.md, "incremental rebuilds"). It edits the two files and puts them back.
# Three timed incremental rebuilds per change: the binary alone, and every test target.
set -e
cd "$1"
cargo build -q -p "$5" --bin nexori 2>/dev/null; cargo test --no-run -q 2>/dev/null
cp "$2" /tmp/html.bak; cp "$3" /tmp/rt.bak
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
for what in backend runtime; do
  for target in bin tests; do
    times=""
    for i in 1 2 3; do
      if [ $what = backend ]; then sed -i 's|<h1>Nexori reference backend</h1>|<h1>Nexori reference backend!</h1>|' "$2"; else sed -i 's|must be non-null.";|must be non-null!";|' "$3"; fi
      if [ $target = bin ]; then x=$(t cargo build -q -p "$5" --bin nexori); else x=$(t cargo test --no-run -q); fi
      times="$times $x"
      cp /tmp/html.bak "$2"; cp /tmp/rt.bak "$3"
      if [ $target = bin ]; then cargo build -q -p "$5" --bin nexori 2>/dev/null; else cargo test --no-run -q 2>/dev/null; fi
    done
    echo "$4 $what one-line change, $target:$times"
  done
done
