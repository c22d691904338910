#!/bin/sh
# run.sh — runs libFuzzer targets for `make fuzz` (tests/fuzz/README.md).
#
#	sh tests/fuzz/run.sh TARGET...		(from the top of the tree, targets built)
#
# Environment: FUZZ_SECONDS (per target, default 60), FUZZ_JOBS (parallel workers, default 2),
# FUZZ_MAX_LEN (default 16384), PEOPLESYNC_TESTDATA (default tests/data: fixtures/ and
# jsontestsuite/ seed the corpora).
#
# Per target: seeds are gathered afresh into build/fuzz/seed/TARGET (the platform fixtures and
# JSONTestSuite files that fit it, plus tests/fuzz/seeds/TARGET and tests/fuzz/regress/TARGET);
# the corpus grows in build/fuzz/corpus/TARGET and is merged down (-merge=1) afterwards;
# findings (crash-, leak-, timeout-, oom- files) land in tests/fuzz/crashes/TARGET/, which
# exists only while it holds one. The logs are in build/fuzz/logs/TARGET/; each run adds a line
# to build/fuzz/history.tsv. Exits 1 when any of the targets has an open finding.
set -u

SECONDS_PER=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-2}
MAX_LEN=${FUZZ_MAX_LEN:-16384}
ROOT=$(pwd)
DATA=${PEOPLESYNC_TESTDATA:-tests/data}
case $DATA in /*) ;; *) DATA=$ROOT/$DATA ;; esac
FIX=$DATA/fixtures
JTS=$DATA/jsontestsuite
HIST=$ROOT/build/fuzz/history.tsv
status=0

[ -d "$FIX" ] || echo "fuzz: $FIX: missing (set PEOPLESYNC_TESTDATA); seeding from tests/fuzz only"

# copy FILE... into the seed dir (missing files are skipped)
seed() {
	for f in "$@"; do
		[ -f "$f" ] && cp "$f" "$SEED/" 2>/dev/null
	done
	return 0
}

# config files become fuzz_config inputs: one leading byte (check_files off) then the text
seed_cfg() {
	for f in "$@"; do
		[ -f "$f" ] || continue
		{ printf '\000'; cat "$f"; } > "$SEED/cfg-$(echo "$f" | tr '/' '_')"
	done
}

for t in "$@"; do
	BIN=$ROOT/build/fuzz/$t
	SEED=$ROOT/build/fuzz/seed/$t
	CORPUS=$ROOT/build/fuzz/corpus/$t
	LOGS=$ROOT/build/fuzz/logs/$t
	CRASH=$ROOT/tests/fuzz/crashes/$t
	if [ ! -x "$BIN" ]; then
		echo "fuzz: $BIN: not built (make fuzz-build)"
		status=1
		continue
	fi
	rm -rf "$SEED" "$LOGS"
	mkdir -p "$SEED" "$CORPUS" "$LOGS" "$CRASH"
	seed "$ROOT"/tests/fuzz/seeds/"$t"/* "$ROOT"/tests/fuzz/regress/"$t"/*
	case $t in
	fuzz_json)		seed "$FIX"/*/*.json "$JTS"/*.json ;;
	fuzz_slack_page)	seed "$FIX"/slack/*.json "$JTS"/y_*.json ;;
	fuzz_graph_page)	seed "$FIX"/graph/*.json "$JTS"/y_*.json ;;
	fuzz_webex_page)	seed "$FIX"/webex/*.json "$JTS"/y_*.json ;;
	fuzz_events)		seed "$JTS"/y_object*.json ;;
	fuzz_config)		seed_cfg "$ROOT"/etc/*.cfg ;;
	esac
	before=$(ls "$CRASH" | wc -l)
	echo "fuzz: $t: $SECONDS_PER s x $JOBS workers, $(ls "$SEED" | wc -l) seeds," \
	    "corpus $(ls "$CORPUS" | wc -l)"
	start=$(date +%s)
	# -jobs: each worker logs to fuzz-N.log in the current directory
	(cd "$LOGS" && "$BIN" -jobs="$JOBS" -workers="$JOBS" -max_total_time="$SECONDS_PER" \
	    -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$CRASH/" "$CORPUS" "$SEED" > "$LOGS/jobs.log" 2>&1)
	took=$(( $(date +%s) - start ))
	execs=$(cat "$LOGS"/fuzz-*.log 2>/dev/null |
	    sed -n 's/^stat::number_of_executed_units: *//p' | awk '{s += $1} END {print s + 0}')
	# keep the corpus small: only inputs that add coverage survive (seeds included, so the
	# corpus alone reaches everything: tests/fuzz/coverage.sh measures it)
	rm -rf "$CORPUS.new"
	mkdir -p "$CORPUS.new"
	(cd "$LOGS" && "$BIN" -merge=1 -max_len="$MAX_LEN" -timeout=10 \
	    -artifact_prefix="$CRASH/" "$CORPUS.new" "$CORPUS" "$SEED" > merge.log 2>&1) &&
	    rm -rf "$CORPUS" && mv "$CORPUS.new" "$CORPUS"
	rm -rf "$CORPUS.new"
	# coverage of what the corpus reaches now (one pass, no mutation)
	(cd "$LOGS" && "$BIN" -runs=0 -max_len="$MAX_LEN" "$CORPUS" > cov.log 2>&1)
	cov=$(sed -n 's/.*INITED cov: \([0-9]*\) ft: \([0-9]*\).*/\1 \2/p' "$LOGS/cov.log" | tail -1)
	found=$(ls "$CRASH" | wc -l)
	echo "fuzz: $t: $execs executions in ${took}s, cov/ft ${cov:-? ?}," \
	    "corpus $(ls "$CORPUS" | wc -l), findings $found"
	[ -f "$HIST" ] || printf 'date\ttarget\tseconds\tworkers\texecutions\tcov\tft\tcorpus\t%s\n' \
	    findings > "$HIST"
	cov=${cov:-? ?}
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$t" \
	    "$SECONDS_PER" "$JOBS" "$execs" "${cov% *}" "${cov#* }" "$(ls "$CORPUS" | wc -l)" \
	    "$found" >> "$HIST"
	if [ "$found" -gt 0 ]; then
		# what the new ones died of: sanitizer summaries and broken invariants
		[ "$found" -gt "$before" ] && grep -h -A3 \
		    "^==.*ERROR\|^SUMMARY\|broken invariant\|fuzz_.*: .*:[0-9]*: " \
		    "$LOGS"/fuzz-*.log 2>/dev/null | head -40
		echo "fuzz: $t: open findings in tests/fuzz/crashes/$t/:"
		ls "$CRASH" | sed 's/^/  /'
		status=1
	else
		rmdir "$CRASH" 2>/dev/null
	fi
done
rmdir "$ROOT/tests/fuzz/crashes" 2>/dev/null
exit $status
