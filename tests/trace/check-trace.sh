#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# check-trace.sh TRACE.json [PROFILE.txt]: checks a timeline written by
# `tnpu-run --trace` (or tnpu-bench, tnpu-batch-bench, tnpu-server; a job
# is its queue's track and id): valid trace-event JSON (the JSON
# Object Format: "traceEvents" of "X" and "M" events); every job holds all
# the commands its stream has (its host span's "commands", each profiled),
# and at least one decode step is there; on each NPU queue's track no two
# commands overlap; no event ends before it starts; each job's commands lie
# within its host submit..fence-wait span, which lie within its step; every
# track is named. With PROFILE (tnpu-run --profile's output), every decode
# step has exactly the commands per op that the profile counted.
# Prints a summary; exits 1 with the first problems found.
set -euo pipefail

trace=${1:?usage: check-trace.sh TRACE.json [PROFILE.txt]}
profile=${2:-}

jq -e '.traceEvents | type == "array"' "$trace" >/dev/null || {
	echo "check-trace: $trace is not trace-event JSON (no traceEvents array)" >&2
	exit 1
}

# {"MATMUL": 36, ...} from the profile's "  OP  N commands  ..." lines
want='{}'
if [ -n "$profile" ]; then
	want=$(awk '$3 == "commands" { printf "%s\"%s\":%d", n++ ? "," : "{", $1, $2 }
		END { print n ? "}" : "{}" }' "$profile")
	[ "$want" != '{}' ] || { echo "check-trace: no op counts in $profile" >&2; exit 1; }
fi

# Times in integer ns (ts and dur are us with three decimals).
# shellcheck disable=SC2016
report=$(jq -r --argjson want "$want" '
	def ns(x): (x * 1000 | round);
	[.traceEvents[] | select(.ph == "X")
	 | . + {s: ns(.ts), e: (ns(.ts) + ns(.dur))}] as $x
	| [.traceEvents[] | select(.ph == "M")] as $m
	| ($x | map(select(.pid == 2))) as $cmds
	| ($x | map(select(.pid == 1 and .args.commands != null))) as $steps
	| ($x | map(select(.pid == 1 and (.name == "submit" or .name == "fence wait")))
	   | group_by([.tid, .args.job]) | map({key: "\(.[0].tid)/\(.[0].args.job)", value: .})
	   | from_entries) as $host
	| ($cmds | group_by([.tid, .args.job])
	   | map({key: "\(.[0].tid)/\(.[0].args.job)", value: .}) | from_entries) as $byjob
	| [
	    ($x[] | select((.ts | type) != "number" or (.dur | type) != "number" or .dur < 0)
	     | "event \(.name) job \(.args.job): ts \(.ts), dur \(.dur): ends before it starts"),
	    (if ($steps | map(select(.name == "decode step")) | length) == 0
	     then "no decode step in the trace" else empty end),
	    ($steps[] | . as $j | ($byjob["\($j.tid)/\($j.args.job)"] // []) as $c
	     | (if ($c | length) != $j.args.commands or $j.args.unprofiled != 0
		then "job \($j.args.job) (\($j.name)): \($c | length) commands in the trace, its stream has \($j.args.commands) (\($j.args.unprofiled) unprofiled)"
		else empty end),
	       (($host["\($j.tid)/\($j.args.job)"] // []) as $h
		| if ($h | length) != 2 then "job \($j.args.job): no submit and fence wait spans"
		  else ($h | map(.s) | min) as $hs | ($h | map(.e) | max) as $he
		  | (if $hs < $j.s or $he > $j.e
		     then "job \($j.args.job): submit/wait outside its \($j.name) span" else empty end),
		    ($c[] | select(.s < $hs or .e > $he)
		     | "job \($j.args.job) command \(.args.cmd) \(.name) [\(.s), \(.e)] ns is outside the host span [\($hs), \($he)]")
		  end),
	       (if $j.name == "decode step" and ($want | length) > 0 then
		  ($c | group_by(.name) | map({key: .[0].name, value: length}) | from_entries) as $got
		  | if $got != $want
		    then "decode job \($j.args.job): commands per op \($got | tojson), the profile counted \($want | tojson)"
		    else empty end
		else empty end)),
	    ($x | group_by([.pid, .tid]) | .[]
	     | (if .[0].pid == 2 then . else map(select(.args.commands != null)) end)
	     | sort_by(.s) | . as $t
	     | range(1; length) | select($t[.].s < $t[. - 1].e)
	     | "track \($t[.].pid)/\($t[.].tid): \($t[.].name) (job \($t[.].args.job)) starts at \($t[.].s) ns before \($t[. - 1].name) (job \($t[. - 1].args.job)) ends at \($t[. - 1].e) ns"),
	    ($x | map([.pid, .tid]) | unique | .[] | . as $k
	     | select(([$m[] | select(.name == "thread_name" and .pid == $k[0] and .tid == $k[1])] | length) != 1)
	     | "track \($k[0])/\($k[1]) has no thread_name"),
	    ($x | map(.pid) | unique | .[] | . as $p
	     | select(([$m[] | select(.name == "process_name" and .pid == $p)] | length) != 1)
	     | "process \($p) has no process_name")
	  ] as $errors
	| if ($errors | length) > 0 then "FAIL", ($errors[:20][])
	  else "OK",
	    "\($steps | length) jobs (\($steps | map(select(.name == "prefill chunk")) | length) prefill chunks, \($steps | map(select(.name == "decode step")) | length) decode steps), \($cmds | length) NPU commands on \($cmds | map(.tid) | unique | length) queue track(s), \($x | length) complete events",
	    "decode step: \($steps | map(select(.name == "decode step")) | .[0].args.commands) commands, every one present in each step",
	    "no overlap on a queue track; every end >= its start; commands inside their submit..wait span",
	    (if ($want | length) > 0 then "per-op counts of every decode step match the profile: \($want | tojson)" else empty end)
	  end' "$trace")

if [ "$(head -n1 <<<"$report")" != OK ]; then
	echo "check-trace: $trace:" >&2
	tail -n +2 <<<"$report" | sed 's/^/  /' >&2
	exit 1
fi
tail -n +2 <<<"$report" | sed "s|^|check-trace: |"
