#!/bin/sh
# coverage.sh — what a target's corpus reaches of the code it is there for (make fuzz-coverage).
#
#	sh tests/fuzz/coverage.sh TARGET...
#
# Replays build/fuzz/corpus/TARGET (and the seeds of the last run) once (-runs=0, no
# mutation) through build/fuzz/cov/TARGET, a source-coverage build (clang
# -fprofile-instr-generate -fcoverage-mapping, no sanitizers), then prints llvm-cov's line
# and branch coverage of each function under test, and their sum.
set -u
ROOT=$(pwd)
PROFDATA=${LLVM_PROFDATA:-llvm-profdata}
COV=${LLVM_COV:-llvm-cov}

# the functions each target is there for: FILE:function,function...
under_test() {
	case $1 in
	fuzz_json)
		echo "src/json.c:skip_ws,hexval,scan_string,scan_number,validate,json_parse,\
json_skip,json_first,json_next,json_count,decode_one,str_eq_n,get_n,json_get,json_get_ci,\
json_path,json_str,json_strdup,json_str_eq,json_bool,json_boolish,is_number,json_i64,\
json_double" ;;
	fuzz_config)
		echo "src/config.c:load,prescan,note_literal,walk,handle,str_value,unknown,\
check_url,parse_hhmm,parse_quiet,tz_ok,listen_ok,domain_ok,aliases,order,secret_env,finish,\
required,check_paths,check_dir,check_parent,config_free" ;;
	fuzz_slack_page)
		echo "drivers/slack.c:slack_parse_member,get_flag,first_nonempty \
drivers/driver.c:clip_utf8,drv_clip_account,drv_add_email \
reconcile/reconcile.c:rec_email_normalize,rec_account_normalize" ;;
	fuzz_graph_page)
		echo "drivers/graph.c:graph_parse_user,add_list \
drivers/driver.c:clip_utf8,drv_clip_account,drv_add_email \
reconcile/reconcile.c:rec_email_normalize,rec_account_normalize" ;;
	fuzz_webex_page)
		echo "drivers/webex.c:webex_parse_person \
drivers/driver.c:clip_utf8,drv_clip_account,drv_add_email \
reconcile/reconcile.c:rec_email_normalize,rec_account_normalize" ;;
	fuzz_events)
		echo "src/prompts.c:events_parse_line,valid_spec src/util.c:parse_iso8601,digits \
src/config.c:platform_parse" ;;
	fuzz_linktoken)
		echo "src/linktoken.c:b64url_encode,b64url_val,b64url_decode,put_be64,get_be64,mac,\
linktoken_make,linktoken_verify" ;;
	esac
}

status=0
for t in "$@"; do
	BIN=$ROOT/build/fuzz/cov/$t
	DIR=$ROOT/build/fuzz/cov/$t.d
	SEEDS=
	[ -d "$ROOT/build/fuzz/seed/$t" ] && SEEDS=$ROOT/build/fuzz/seed/$t
	rm -rf "$DIR"
	mkdir -p "$DIR"
	if ! (cd "$DIR" && LLVM_PROFILE_FILE="$DIR/%p.profraw" "$BIN" -runs=0 \
	    -max_len=${FUZZ_MAX_LEN:-16384} "$ROOT/build/fuzz/corpus/$t" $SEEDS > replay.log 2>&1)
	then
		echo "$t: replaying the corpus failed (build/fuzz/cov/$t.d/replay.log)"
		status=1
		continue
	fi
	"$PROFDATA" merge -sparse -o "$DIR/all.profdata" "$DIR"/*.profraw || { status=1; continue; }
	echo "$t ($(ls "$ROOT/build/fuzz/corpus/$t" | wc -l) corpus inputs, and seeds):" \
	    "lines, branches"
	for spec in $(under_test "$t"); do
		file=${spec%%:*}
		"$COV" report -show-functions -instr-profile="$DIR/all.profdata" "$BIN" \
		    "$ROOT/$file" 2>/dev/null |
		awk -v want="${spec#*:}" -v file="$file" '
			BEGIN { n = split(want, w, ","); for (i = 1; i <= n; i++) keep[w[i]] = 1 }
			# Name Regions Miss Cover Lines Miss Cover Branches Miss Cover; a static
			# function is named "file.c:name"
			NF >= 10 { name = $1; sub(/.*:/, "", name) }
			NF >= 10 && name in keep {
				printf "  %-22s %-22s %4d/%-4d %7s   %3d/%-3d %7s\n", name, file,
				    $5 - $6, $5, $7, $8 - $9, $8, $10
			}'
	done > "$DIR/table"
	cat "$DIR/table"
	awk '{ split($3, l, "/"); split($5, b, "/"); lc += l[1]; ln += l[2]; bc += b[1];
	    bn += b[2] } END { if (ln) printf "  total: lines %d/%d (%.1f%%), branches %d/%d (%.1f%%)\n",
	    lc, ln, 100 * lc / ln, bc, bn, bn ? 100 * bc / bn : 100 }' "$DIR/table"
done
exit $status
