#!/usr/bin/env bash
# Mutation testing of the modules that guard safety and data, with mutmut 3.
#
#   bench/mutation.sh                      # every group below, one after the other
#   bench/mutation.sh netguard message     # only these groups
#   bench/mutation.sh 'digest/pages/_clean.py=tests/test_clean.py tests/test_guards.py'
#                                          # any module: source files = the test files that drive them
#   MUTATION_FROM=HEAD bench/mutation.sh   # mutate the last commit (plus the work tree's
#                                          # tests/test_mutants_*.py), not the work tree
#   MUTATION_FROM=HEAD MUTATION_ALSO="digest/mail/_deliver.py" bench/mutation.sh outbox
#                                          # ... with these files as the work tree has them
#                                          # (a fix made while measuring, not yet committed)
#   MUTATION_RECHECK=1 bench/mutation.sh config   # after adding tests: only the survivors
#   MUTATION_RECHECK=names.txt bench/mutation.sh fetch   # ... only these (one name a line;
#                                          # e.g. leave out the ones listed as equivalent)
#
# Each group runs in its own copy of the project (MUTATION_WORKDIR, /tmp/digest-mutation by
# default), so the mutants/ folder mutmut writes never lands in the work tree and edits made
# there during a run change nothing. One worker process (MUTATION_CHILDREN=1): the machine is
# shared. A group's copy is kept, so `cd $MUTATION_WORKDIR/GROUP && mutmut show NAME` shows a
# mutant, and running the script again re-tests only what changed.
#
# Why a test list per group: mutmut runs, for each mutant, only the tests that called the
# mutated function during its first pass; the lists below hold the fast, in-process tests of
# each module. Code reached only through `python -m digest` in a subprocess is invisible to
# that pass, so those slow tests are left out (mutmut reports such mutants as "no tests").
#
# The last figures and the surviving mutants that are equivalent are in bench/mutation.md.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORKDIR=${MUTATION_WORKDIR:-/tmp/digest-mutation}
CHILDREN=${MUTATION_CHILDREN:-1}
FROM=${MUTATION_FROM:-worktree}

# group -> "source files = test files".
declare -A MODULE_GROUPS=(
  [netguard]="digest/feeds/_netguard.py = tests/test_netguard.py tests/test_mutants_netguard.py"
  [fetch]="digest/feeds/_fetch.py digest/feeds/_urls.py digest/feeds/_robots.py = tests/test_fetch.py tests/test_parse.py tests/test_mutants_netguard.py tests/test_mutants_fetch.py"
  [health]="digest/feeds/_health.py digest/store/_feed_health.py = tests/test_feed_health.py tests/test_mutants_health.py"
  [outbox]="digest/store/_outbox.py digest/mail/_deliver.py digest/mail/_smtp_client.py = tests/test_store.py tests/test_deliver.py tests/test_smtp.py tests/test_mutants_outbox.py"
  [message]="digest/mail/_message.py = tests/test_message.py tests/test_headers.py tests/test_mutants_message.py"
  [config]="digest/config/_settings.py digest/config/_loader.py digest/config/_addresses.py = tests/test_config.py tests/test_addresses.py tests/test_mutants_config.py tests/test_config_messages.py"
  [clean]="digest/pages/_clean.py = tests/test_clean.py tests/test_guards.py tests/test_mutants_clean.py"
  [cluster]="digest/cluster/_linkage.py digest/cluster/_pairing.py digest/cluster/_lookalikes.py = tests/test_linkage.py tests/test_pairing.py tests/test_lookalikes.py tests/test_cluster.py tests/test_mutants_linkage.py"
)
ORDER=(netguard message config health fetch outbox clean cluster)

if [ $# -eq 0 ]; then set -- "${ORDER[@]}"; fi

snapshot() {  # copy the project into $1
  local dest=$1
  rm -rf "$dest"
  mkdir -p "$dest"
  if [ "$FROM" = HEAD ]; then
    git -C "$REPO" archive HEAD | tar -x -C "$dest"
    find "$REPO/tests" -maxdepth 1 -name 'test_mutants_*.py' -exec cp {} "$dest/tests/" \;
    for f in ${MUTATION_ALSO:-}; do cp "$REPO/$f" "$dest/$f"; done
  else
    # Tracked files someone has just deleted are listed too: copy only what exists.
    (cd "$REPO" && git ls-files -co --exclude-standard -z \
      | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
      | xargs -0 cp --parents -t "$dest")
  fi
  # The tests find the real data beside the repository (REPO.parent / "shared"); inside the
  # copy the repository is mutants/, so its parent is the copy itself.
  # -n: never follow an existing link (into the data folder, where it would make a loop).
  ln -sfn "$(cd "$REPO/.." && pwd)/shared" "$dest/shared"
}

run_group() {
  local name=$1 spec=$2
  local sources=${spec%%=*} tests=${spec#*=}
  local dest=$WORKDIR/$name
  local keep=""
  [ -d "$dest/mutants" ] && keep=$(mktemp -d) && mv "$dest/mutants" "$keep/"
  snapshot "$dest"
  [ -n "$keep" ] && mv "$keep/mutants" "$dest/" && rmdir "$keep"
  local present=()
  for t in $tests; do [ -f "$dest/$t" ] && present+=("$t"); done
  {
    echo "[mutmut]"
    echo "source_paths = digest"
    echo "only_mutate ="
    for s in $sources; do echo "    $s"; done
    echo "pytest_add_cli_args_test_selection ="
    for t in "${present[@]}"; do echo "    $t"; done
    # -p no:cacheprovider: no .pytest_cache; -x is mutmut's own choice per mutant.
    echo "pytest_add_cli_args ="
    echo "    -p"
    echo "    no:cacheprovider"
    echo "also_copy ="
    for extra in config templates docs deploy bench README.md shared; do echo "    $extra"; done
    echo "use_git_change_detection = false"
    # A mutant that hangs (a retry loop sleeping, a read with no bound) costs this many times
    # its tests' usual time before it counts as detected; mutmut's default of 15 made a few
    # such mutants most of a group's run.
    echo "timeout_multiplier = ${MUTATION_TIMEOUT_MULTIPLIER:-5}"
  } > "$dest/setup.cfg"
  echo "== $name: mutating $sources; tests ${present[*]}"
  # MUTATION_RECHECK=1: test again only the mutants the last run left alive (after new tests;
  # mutmut keeps every other result as long as the test selection is unchanged).
  local names=()
  if [ -n "${MUTATION_RECHECK:-}" ] && [ "$MUTATION_RECHECK" != 1 ]; then
    mapfile -t names < <(grep -v '^\s*$' "$MUTATION_RECHECK")
    echo "   rechecking ${#names[@]} mutants listed in $MUTATION_RECHECK"
  elif [ -n "${MUTATION_RECHECK:-}" ] && [ -n "$keep" ]; then
    mapfile -t names < <(cd "$dest" && python - <<'PYEOF'
from mutmut.__main__ import SourceFileMutationData, walk_mutatable_files
from mutmut.stats import status_by_exit_code

for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for key, code in data.exit_code_by_key.items():
        if status_by_exit_code[code] in ("survived", "no tests"):
            print(key)
PYEOF
    )
    echo "   rechecking ${#names[@]} mutants"
  fi
  (cd "$dest" && python -m mutmut run --max-children "$CHILDREN" "${names[@]}") \
    || echo "!! mutmut exited $? for $name"
  (cd "$dest" && python -m mutmut export-cicd-stats >/dev/null && python - "$name" <<'EOF'
import json, sys
s = json.load(open("mutants/mutmut-cicd-stats.json"))
tested = s["total"] - s["skipped"]
print(f"{sys.argv[1]}: {s['total']} mutants, {s['killed']} killed, {s['survived']} survived, "
      f"{s['timeout']} timeout, {s['no_tests']} no tests, {s['suspicious']} suspicious, "
      f"{s['segfault']} segfault"
      + (f"; not killed {100 * (s['survived'] + s['no_tests']) / tested:.1f}%" if tested else ""))
EOF
  )
  # Every mutant not killed, with its diff, for reading (and for bench/mutation.md).
  (cd "$dest" && python - > survivors.txt <<'PYEOF'
from mutmut.__main__ import SourceFileMutationData, walk_mutatable_files
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

for path in walk_mutatable_files():
    data = SourceFileMutationData(path=path)
    data.load()
    for key, code in data.exit_code_by_key.items():
        status = status_by_exit_code[code]
        if status != "killed":
            diff = get_diff_for_mutant(key, path=path).splitlines()
            changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
            print(f"## {key}: {status}", *changed, sep="\n")
PYEOF
  )
  echo "  not killed, with diffs: $dest/survivors.txt ($(grep -c '^## ' "$dest/survivors.txt" || true))"
}

mkdir -p "$WORKDIR"
for arg in "$@"; do
  if [[ $arg == *=* ]]; then
    first=$(echo "${arg%%=*}" | awk '{print $1}')
    label=$(basename "$first" .py | tr -d _)
    run_group "custom-$label" "$arg"
  elif [ -n "${MODULE_GROUPS[$arg]:-}" ]; then
    run_group "$arg" "${MODULE_GROUPS[$arg]}"
  else
    echo "unknown group $arg (known: ${ORDER[*]})" >&2
    exit 2
  fi
done
