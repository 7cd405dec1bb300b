#!/usr/bin/env bash
# Fuzz every target for SECONDS each (default 300) on the stable toolchain.
#
#   fuzz/run.sh [SECONDS]
#
# Installs cargo-fuzz 0.13.2 if missing, seeds fuzz/corpus/<target>/ from the
# eval corpus (AIRLOCK_EVAL_CASES, default /work/shared/eval/cases), builds
# with `cargo fuzz build -s none` (no sanitizer: ASan needs nightly), runs the
# targets one after another and prints executions and crashes per target.
# Exits 1 when any target crashed (inputs are kept in fuzz/artifacts/<target>/).
set -euo pipefail

secs=${1:-300}
case $secs in
'' | *[!0-9]*)
    echo "usage: $0 [SECONDS]" >&2
    exit 2
    ;;
esac

fuzz_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$fuzz_dir")
cases=${AIRLOCK_EVAL_CASES:-/work/shared/eval/cases}
targets=(bash python sql gate_json ledger)
cd "$root"

# 1. cargo-fuzz
if ! cargo fuzz --version 2>/dev/null | grep -q '0\.13\.2'; then
    echo "== installing cargo-fuzz 0.13.2"
    cargo install cargo-fuzz --version 0.13.2 --locked
fi

# 2. seeds: one file per eval case (added to whatever the corpus already holds)
if compgen -G "$cases/*.jsonl" >/dev/null; then
    echo "== seeding fuzz/corpus from $cases"
    python3 - "$cases" "$fuzz_dir/corpus" <<'PY'
import glob, json, os, re, sys

src, out = sys.argv[1], sys.argv[2]
lang_target = {"bash": "bash", "sh": "bash", "python": "python", "sql": "sql"}
counts = {}

def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)
    counts[target] = counts.get(target, 0) + 1

for path in sorted(glob.glob(os.path.join(src, "*.jsonl"))):
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        case = json.loads(line)
        lang, code = case["lang"], case["code"]
        name = "seed-" + re.sub(r"[^A-Za-z0-9_.-]", "_", str(case.get("id") or f"{os.path.basename(path)}-{n}"))
        target = lang_target.get(lang)
        if target:
            put(target, name, code.encode("utf-8"))
        proposal = {"lang": lang, "code": code, "id": case.get("id")}
        put("gate_json", name, json.dumps(proposal).encode("utf-8"))
# Committed seeds for targets that do not take code (the ledger: a real small ledger).
seeds = os.path.join(os.path.dirname(out), "seeds")
for target in sorted(os.listdir(seeds)) if os.path.isdir(seeds) else []:
    for name in sorted(os.listdir(os.path.join(seeds, target))):
        put(target, "seed-" + name, open(os.path.join(seeds, target, name), "rb").read())
print("   ", ", ".join(f"{t}: {c} seeds" for t, c in sorted(counts.items())))
PY
else
    echo "== no eval cases at $cases: starting from the existing corpus only"
fi

# 3. build (stable: no sanitizer)
echo "== cargo fuzz build -s none"
cargo fuzz build -s none

# 4. run
logs="$fuzz_dir/target/run-logs"
mkdir -p "$logs"
crashed=0
summary=()
for t in "${targets[@]}"; do
    mkdir -p "$fuzz_dir/corpus/$t" "$fuzz_dir/artifacts/$t"
    log="$logs/$t.log"
    echo "== $t: ${secs}s (log: ${log#"$root"/})"
    status=0
    cargo fuzz run -s none "$t" -- -max_total_time="$secs" -timeout=20 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n1 | tr -d '#')
    [ -n "$execs" ] || execs=0
    if [ "$status" -eq 0 ]; then
        summary+=("$(printf '%-10s %12s execs  no crash' "$t" "$execs")")
    else
        crashed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n1)
        why=$(grep -m1 -A1 -E "panicked at|ERROR: libFuzzer|SUMMARY: libFuzzer" "$log" | tr '\n' ' ' | cut -c1-300)
        summary+=("$(printf '%-10s %12s execs  CRASH (exit %s): %s' "$t" "$execs" "$status" "${artifact:-no artifact written}")")
        summary+=("           ${why:-see $log}")
    fi
done

echo
echo "== results (${secs}s per target)"
printf '%s\n' "${summary[@]}"
exit "$crashed"
