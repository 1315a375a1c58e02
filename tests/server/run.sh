#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# The server suite (tests/run-all.sh server): tnpu-server in process on
# loopback, with models from tnpu-gguf-gen (random weights, real
# tokenizers, real chat templates). Parts, each "server PART: ok ..." or
# "server PART: FAILED ...":
#
#   templates  the C chat templates against the real ones in a Jinja engine
#   startup    a model without a known template is refused unless --chat-template
#   endpoints  curl on every endpoint: health, models, chat and completions
#              (streamed and not, stop strings, logprobs, min-p, seeds), the
#              page, metrics, API keys; greedy text equal to tnpu-run's
#   openai     the official openai npm client streams a chat: the same greedy
#              text as tnpu-run gives for the rendered prompt
#   long       a model of 8192 tokens of context: a prompt beyond 4096 tokens
#              gets tnpu-run's greedy answer
#   reuse      a chat's second turn takes the first turn's KV blocks over
#              (usage.prompt_tokens_details.cached_tokens, /metrics) and
#              answers as a fresh server does
#   priority   per API key, in process: a high-priority answer runs while a
#              low-priority one waits (the levels' turns on the NPU)
#   scaleout   two instances behind HAProxy (tests/server/haproxy.cfg) on
#              loopback: requests through it spread over both (their
#              /metrics), every greedy answer the same; one stopped, the
#              other serves all
#   page       the chat page in headless Chromium: a message typed, the answer
#              streamed on screen (the API's text), tokens/s shown; a
#              screenshot in $O/check/server-page.png
#   load       wrk, 8 connections: no failure, every answer the single
#              client's; p50/p99 latency and tokens/s printed (not asserted)
#   shutdown   SIGTERM during a streamed answer: it ends whole, exit status 0
#   bad        malformed and truncated JSON, wrong types, unknown model, a
#              prompt beyond the context, max_tokens 0 and huge, 100 MB bodies,
#              a client hanging up mid-stream, 200 idle connections: each its
#              status and message (a table), with the server (an ASan/UBSan
#              build) serving others throughout and leaking nothing
#   vm         through tnpu.ko in the VM: two servers share the NPU on low and
#              high priority queues; greedy answers as in process, a stream,
#              NPU time from fdinfo, exit 0 (tests/server/vm-guest.sh)
#
# Usage: tests/server/run.sh [PART...]     (default: all; needs make, node, curl, jq, wrk,
#                                          haproxy)

# The parts are called by name (part_$p): not unreachable.
# shellcheck disable=SC2317
set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=$(realpath -m "${O:-$TOP/build}")
O_ASAN=$(realpath -m "${O_ASAN:-$TOP/build-asan}")
HERE=$TOP/tests/server
work=$O/server/work
npm=$O/server/npm
server=$O/bin/tnpu-server
run=$O/bin/tnpu-run
gen=$O/bin/tnpu-gguf-gen
asan_server=$O_ASAN/bin/tnpu-server
all_parts=(templates startup endpoints openai long reuse scaleout priority page load shutdown bad vm)
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=("${all_parts[@]}")

rm -rf "$work"
mkdir -p "$work"
url=""
pid=""
export TNPU_BACKEND=inproc

say() { echo "server $*"; }
# why MESSAGE: the reason the current part fails (printed with FAILED).
why() { reason="$*"; }

if ! make -C "$TOP" --no-print-directory -j2 tools server-tests >"$work/build.log" 2>&1; then
	tail -n 30 "$work/build.log"
	say "build: FAILED (log: $work/build.log)"
	exit 1
fi
if ! "$HERE/setup.sh" >"$work/setup.log" 2>&1; then
	tail -n 20 "$work/setup.log"
	say "setup: FAILED (log: $work/setup.log)"
	exit 1
fi

# Models: a tiny and a small qwen2 with the Qwen2 template (GPT-2 vocabulary
# with the ChatML control tokens), a tiny llama with Llama 2's, and two the
# server must refuse to guess for.
tmpl=$HERE/templates
chatml=(--special '<|im_start|>' --special '<|im_end|>' --eos '<|im_end|>')
"$gen" -o "$work/chat.gguf" --arch qwen2 --tokenizer gpt2 --type q4_0 --layers 3 --dim 128 \
	--heads 4 --kv-heads 2 --ffn 256 --vocab 600 --seed 4 \
	--chat-template "$tmpl/qwen2-instruct.jinja" "${chatml[@]}" >/dev/null
"$gen" -o "$work/small.gguf" --preset small --arch qwen2 --tokenizer gpt2 --vocab 1024 \
	--ctx 1024 --chat-template "$tmpl/qwen2-instruct.jinja" "${chatml[@]}" >/dev/null
"$gen" -o "$work/llama2.gguf" --chat-template "$tmpl/llama2-chat.jinja" >/dev/null
"$gen" -o "$work/plain.gguf" >/dev/null
"$gen" -o "$work/mistral.gguf" --chat-template "$tmpl/mistral-instruct.jinja" >/dev/null

# start_server NAME BIN ARG...: runs a server on a free port; sets url and pid.
start_server() {
	local name=$1 bin=$2 i

	shift 2
	: >"$work/$name.log"
	"$bin" --port 0 "$@" 2>"$work/$name.log" &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		url=$(sed -n 's|^tnpu-server: listening on \(http://[^/]*\)/$|\1|p' "$work/$name.log")
		[ -n "$url" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	why "$name: the server did not start: $(tail -n 3 "$work/$name.log")"
	kill "$pid" 2>/dev/null
	return 1
}

# stop_server: SIGTERM, and the exit status must be 0.
stop_server() {
	local rc=0

	kill -TERM "$pid" 2>/dev/null
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { why "the server exited $rc on SIGTERM"; return 1; }
}

# post PATH BODY [CURL ARG...]: the answer in $work/body, its status in $status.
post() {
	local path=$1 body=$2

	shift 2
	status=$(curl -s -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data-binary "$body" "$@" "$url$path")
}

get() {
	local path=$1

	shift
	status=$(curl -s -o "$work/body" -w '%{http_code}' "$@" "$url$path")
}

# expect STATUS JQ-FILTER: the last answer had STATUS and the filter holds.
expect() {
	local want=$1 filter=$2

	if [ "$status" != "$want" ]; then
		why "$last: status $status, not $want: $(head -c 300 "$work/body")"
		return 1
	fi
	if ! jq -e "$filter" "$work/body" >/dev/null 2>&1; then
		why "$last: $filter does not hold for $(head -c 400 "$work/body")"
		return 1
	fi
}

# greedy MODEL PROMPT N [ARG...]: tnpu-run's greedy text (BOS and control tokens as it adds them).
greedy() {
	"$run" -m "$1" -p "$2" -n "$3" --ids "${@:4}" 2>/dev/null >"$work/run.out" || return 1
	node -e '
		const fs = require("fs"), [out, prompt] = [fs.readFileSync(process.argv[1]), process.argv[2]];
		const s = out.toString("latin1"), p = Buffer.from(prompt).toString("latin1");
		const text = s.slice(p.length, s.lastIndexOf("\nprompt ids:"));
		process.stdout.write(Buffer.from(text, "latin1").toString("utf8"));
	' "$work/run.out" "$2"
}

part_templates() {
	node "$HERE/templates.mjs" --render "$O/server-tests/template_render" --npm "$npm" \
		--templates "$tmpl" --work "$work/templates" >"$work/templates.log" 2>&1 ||
		{ why "$(grep -A3 -v identical "$work/templates.log" | head -n 12)"; return 1; }
	summary="$(grep -c ' identical$' "$work/templates.log") templates, every conversation identical"
}

part_startup() {
	local rc

	# refuse MESSAGE ARG...: the server exits 2 saying MESSAGE.
	refuse() {
		local msg=$1
		shift
		rc=0
		"$server" --port 0 "$@" 2>"$work/startup.log" || rc=$?
		if [ "$rc" -ne 2 ] || ! grep -qF -- "$msg" "$work/startup.log"; then
			why "$*: exit $rc, $(cat "$work/startup.log")"
			return 1
		fi
	}
	refuse "has no tokenizer.chat_template: give --chat-template NAME" -m "$work/plain.gguf" &&
	refuse "of no family this server renders" -m "$work/mistral.gguf" &&
	refuse "--chat-template jinja2: unknown (known: llama2, chatml" -m "$work/chat.gguf" \
		--chat-template jinja2 &&
	refuse "--ctx 512: the model was trained for 256 tokens at most" -m "$work/chat.gguf" \
		--ctx 512 || return 1
	start_server startup-mistral "$server" -m "$work/mistral.gguf" --chat-template llama2 \
		--slots 1 --kv-tokens 96 || return 1
	last="mistral model served with --chat-template llama2"
	post /apply-template '{"messages":[{"role":"user","content":"Hi"}]}'
	expect 200 '.prompt == "<s>[INST] Hi [/INST]"' || return 1
	get /metrics
	grep -q '^tnpu_kv_cache_capacity_tokens 96$' "$work/body" ||
		{ why "--kv-tokens 96: $(grep '^tnpu_kv_cache_capacity_tokens' "$work/body")"; return 1; }
	stop_server || return 1
	summary="no template, an unknown one, a bad name, --ctx beyond the model's: exit 2 with their messages; --chat-template serves; --kv-tokens sizes the pool"
}

part_endpoints() {
	local text want sse n prompt
	local chat='{"model":"chat","messages":[{"role":"user","content":"Hello"}],"max_tokens":12,"temperature":0}'

	start_server endpoints "$server" -m "$work/chat.gguf" --slots 2 --api-key key-1 \
		--priority key-2=high || return 1
	auth=(-H 'Authorization: Bearer key-1')

	last="GET /health"; get /health
	# Two priority levels in use (key-1 normal, key-2 high): an engine of 2 slots each.
	expect 200 '.status == "ok" and .slots_idle == 4' || return 1
	last="GET /v1/models without a key"; get /v1/models
	expect 401 '.error.code == "invalid_api_key" and (.error.message | test("provide your API key"))' || return 1
	last="GET /v1/models with a wrong key"; get /v1/models -H 'Authorization: Bearer nope'
	expect 401 '.error.message == "Incorrect API key provided."' || return 1
	last="GET /v1/models"; get /v1/models "${auth[@]}"
	expect 200 '.object == "list" and .data[0].id == "chat" and .data[0].context_length == 256' || return 1
	last="GET /v1/models/chat"; get /v1/models/chat "${auth[@]}"
	expect 200 '.id == "chat" and .object == "model"' || return 1
	last="GET /v1/models/other"; get /v1/models/other "${auth[@]}"
	expect 404 '.error.code == "model_not_found"' || return 1
	last="GET /"; get /
	if [ "$status" != 200 ] || ! grep -q '<title>tnpu chat</title>' "$work/body"; then
		why "the page: $status"
		return 1
	fi
	last="GET /nowhere"; get /nowhere
	expect 404 '.error.message | test("no such endpoint: GET /nowhere")' || return 1
	last="GET /v1/chat/completions"; get /v1/chat/completions
	expect 405 '.error.message | test("takes POST, not GET")' || return 1

	# The rendered prompt, and the greedy answer tnpu-run gives for it.
	last="POST /apply-template"
	post /apply-template '{"messages":[{"role":"user","content":"Hello"}]}' "${auth[@]}"
	expect 200 '.prompt | startswith("<|im_start|>system\nYou are a helpful assistant.")' || return 1
	prompt=$(jq -j .prompt "$work/body"; printf x)
	want=$(greedy "$work/chat.gguf" "${prompt%x}" 12) || { why "tnpu-run failed"; return 1; }
	last="chat, greedy"; post /v1/chat/completions "$chat" "${auth[@]}"
	expect 200 '.object == "chat.completion" and .choices[0].message.role == "assistant" and .choices[0].finish_reason == "length" and .usage.completion_tokens == 12' || return 1
	text=$(jq -j '.choices[0].message.content' "$work/body")
	[ "$text" = "$want" ] || { why "chat gave '$text', tnpu-run '$want'"; return 1; }
	cp "$work/body" "$work/chat-greedy.json"

	# Streamed: events of chunks, [DONE] last, the same text.
	last="chat, streamed"
	post /v1/chat/completions "${chat%\}},\"stream\":true,\"stream_options\":{\"include_usage\":true}}" "${auth[@]}" -N
	[ "$status" = 200 ] || { why "stream: $status"; return 1; }
	sse=$(sed -n 's/^data: //p' "$work/body")
	[ "$(tail -n 1 <<<"$sse")" = "[DONE]" ] || { why "the stream does not end with [DONE]"; return 1; }
	text=$(grep -v '^\[DONE\]$' <<<"$sse" | jq -j '.choices[0].delta.content // empty')
	[ "$text" = "$want" ] || { why "streamed '$text', tnpu-run '$want'"; return 1; }
	n=$(grep -v '^\[DONE\]$' <<<"$sse" | jq -s '[.[] | select(.object == "chat.completion.chunk")] | length')
	[ "$n" -ge 4 ] || { why "only $n chunks"; return 1; }
	grep -v '^\[DONE\]$' <<<"$sse" | jq -se '.[0].choices[0].delta.role == "assistant" and
		.[-2].choices[0].finish_reason == "length" and .[-1].usage.completion_tokens == 12' \
		>/dev/null || { why "stream chunks: $(head -c 300 <<<"$sse")"; return 1; }

	# A completion is tnpu-run's prompt as it is.
	want=$(greedy "$work/chat.gguf" "The NPU says" 10)
	last="completion, greedy"
	post /v1/completions '{"prompt":"The NPU says","max_tokens":10,"temperature":0,"logprobs":2}' "${auth[@]}"
	expect 200 '.object == "text_completion" and (.choices[0].logprobs.tokens | length) == 10 and (.choices[0].logprobs.top_logprobs[0] | length) == 2' || return 1
	text=$(jq -j '.choices[0].text' "$work/body")
	[ "$text" = "$want" ] || { why "completion '$text', tnpu-run '$want'"; return 1; }
	last="completion, streamed with echo"
	post /v1/completions '{"prompt":"The NPU says","max_tokens":10,"temperature":0,"stream":true,"echo":true}' "${auth[@]}" -N
	text=$(sed -n 's/^data: //p' "$work/body" | grep -v '^\[DONE\]$' | jq -j '.choices[0].text')
	[ "$text" = "The NPU says$want" ] || { why "streamed completion '$text'"; return 1; }

	# A stop string: the text up to it, finish_reason stop.
	local stop=${want:3:3}
	last="completion with stop '$stop'"
	post /v1/completions "$(jq -nc --arg s "$stop" '{prompt:"The NPU says",max_tokens:10,temperature:0,stop:[$s]}')" "${auth[@]}"
	expect 200 '.choices[0].finish_reason == "stop"' || return 1
	text=$(jq -j '.choices[0].text' "$work/body")
	[ "$text" = "${want%%"$stop"*}" ] || { why "stop '$stop': '$text' from '$want'"; return 1; }

	# Sampled: a seed repeats its draw, min-p too (on the host); logprobs.
	local samp='{"prompt":"The NPU says","max_tokens":16,"temperature":1.5,"top_k":50,"seed":7}'
	last="sampled, seed 7"; post /v1/completions "$samp" "${auth[@]}"; expect 200 '.usage.completion_tokens >= 1' || return 1
	text=$(jq -j '.choices[0].text' "$work/body")
	post /v1/completions "$samp" "${auth[@]}"
	[ "$(jq -j '.choices[0].text' "$work/body")" = "$text" ] || { why "seed 7 drew differently"; return 1; }
	[ "$text" != "$want" ] || { why "temperature 1.5 gave the greedy text"; return 1; }
	samp='{"prompt":"The NPU says","max_tokens":16,"temperature":1,"min_p":0.02,"seed":3}'
	last="min_p"; post /v1/completions "$samp" "${auth[@]}"; expect 200 '.usage.completion_tokens >= 1' || return 1
	text=$(jq -j '.choices[0].text' "$work/body")
	post /v1/completions "$samp" "${auth[@]}"
	[ "$(jq -j '.choices[0].text' "$work/body")" = "$text" ] || { why "min_p seed 3 drew differently"; return 1; }
	# min_p 1 keeps the most likely token alone: greedy, however hot.
	last="min_p 1"
	post /v1/completions '{"prompt":"The NPU says","max_tokens":10,"temperature":2,"min_p":1,"seed":5}' "${auth[@]}"
	expect 200 '.usage.completion_tokens >= 1' || return 1
	text=$(jq -j '.choices[0].text' "$work/body")
	[ "$text" = "$want" ] || { why "min_p 1 at temperature 2 gave '$text', greedy '$want'"; return 1; }
	last="chat logprobs"
	post /v1/chat/completions "${chat%\}},\"logprobs\":true,\"top_logprobs\":3}" "${auth[@]}"
	expect 200 '(.choices[0].logprobs.content | length) == 12 and (.choices[0].logprobs.content[0].top_logprobs | length) == 3 and .choices[0].logprobs.content[0].logprob <= 0 and .choices[0].logprobs.content[0].top_logprobs[0].logprob >= .choices[0].logprobs.content[0].top_logprobs[1].logprob' || return 1
	# Greedy: the chosen token is the most likely one.
	jq -e '[.choices[0].logprobs.content[] | .logprob == .top_logprobs[0].logprob] | all' \
		"$work/body" >/dev/null || { why "a greedy token that is not the most likely"; return 1; }
	last="high priority key"; post /v1/chat/completions "$chat" -H 'Authorization: Bearer key-2'
	expect 200 '.usage.completion_tokens == 12' || return 1
	cmp -s <(jq -c .choices "$work/body") <(jq -c .choices "$work/chat-greedy.json") ||
		{ why "the high priority answer differs"; return 1; }

	last="GET /metrics"; get /metrics
	[ "$status" = 200 ] || { why "metrics: $status"; return 1; }
	for m in 'tnpu_requests_total{endpoint="/v1/chat/completions",status="200"} 4' \
		'tnpu_requests_total{endpoint="/v1/models",status="401"} 2' \
		'tnpu_generations_total{finish="stop"} 1' 'tnpu_slots 4' 'tnpu_queue_depth 0' \
		'tnpu_active_sessions 0' 'tnpu_kv_cache_capacity_tokens 1024' 'tnpu_priority_levels 2' \
		'tnpu_time_to_first_token_seconds_count 12' 'tnpu_generations_total{finish="length"} 11' 'tnpu_generated_tokens_per_second' \
		'tnpu_npu_busy_seconds_total{source="inproc"}' 'tnpu_kv_cache_bytes' \
		'tnpu_kv_cache_blocks{state="used"} 0' 'tnpu_kv_cache_blocks{state="cached"}' \
		'tnpu_prompt_tokens_reused_total' 'tnpu_decode_rows_per_job'; do
		grep -qF "$m" "$work/body" || { why "/metrics lacks '$m'"; return 1; }
	done
	grep -q '^tnpu_generated_tokens_total 1[0-9][0-9]$' "$work/body" ||
		{ why "generated tokens: $(grep '^tnpu_generated_tokens_total' "$work/body")"; return 1; }
	stop_server || return 1
	summary="health, models, page, 404/405, keys (401), chat and completions streamed and not equal to tnpu-run, stop, seeds, min-p, logprobs, priority, metrics"
}

part_openai() {
	local want got prompt

	start_server openai "$server" -m "$work/chat.gguf" --slots 1 --api-key sk-test || return 1
	post /apply-template '{"messages":[{"role":"user","content":"Tell me about NPUs."}]}' \
		-H 'Authorization: Bearer sk-test'
	prompt=$(jq -j .prompt "$work/body"; printf x)
	want=$(greedy "$work/chat.gguf" "${prompt%x}" 40) || { why "tnpu-run failed"; return 1; }
	node "$HERE/openai.mjs" --npm "$npm" --url "$url/v1" --key sk-test --model chat \
		--max-tokens 40 --message "Tell me about NPUs." >"$work/openai.log" 2>&1 ||
		{ why "$(tail -n 5 "$work/openai.log")"; stop_server; return 1; }
	got=$(tail -n 1 "$work/openai.log" | jq -j .)
	[ "$got" = "$want" ] || { why "openai streamed '$got', tnpu-run '$want'"; return 1; }
	stop_server || return 1
	summary="$(head -n 1 "$work/openai.log" | sed 's/^openai: //'); the text is tnpu-run's (${#want} characters)"
}

part_long() {
	local text want got n

	"$gen" -o "$work/long.gguf" --arch qwen2 --tokenizer gpt2 --type q4_0 --layers 2 --dim 64 \
		--heads 2 --kv-heads 1 --ffn 128 --vocab 600 --seed 6 --ctx 8192 \
		--chat-template "$tmpl/qwen2-instruct.jinja" "${chatml[@]}" >/dev/null || return 1
	text=$(head -c 4400 /dev/zero | tr '\0' 'a' | sed 's/a\{12\}/aaaa bbb cc /g')
	want=$(greedy "$work/long.gguf" "$text" 8 --ctx 8192) || { why "tnpu-run failed"; return 1; }
	start_server long "$server" -m "$work/long.gguf" --slots 1 || return 1
	last="a long prompt"
	post /v1/completions "$(jq -nc --arg p "$text" '{prompt:$p,max_tokens:8,temperature:0}')"
	expect 200 '.usage.prompt_tokens > 4096' || return 1
	n=$(jq .usage.prompt_tokens "$work/body")
	got=$(jq -j '.choices[0].text' "$work/body")
	stop_server || return 1
	[ "$got" = "$want" ] || { why "after $n prompt tokens: '$got', tnpu-run '$want'"; return 1; }
	summary="$n prompt tokens in a context of 8192: tnpu-run's greedy answer"
}

part_reuse() {
	local u1="Tell me about the NPU: its cores, queues and memory."
	local turn1 turn2 n1 n2 cached want got blocks

	turn1=$(jq -nc --arg u "$u1" '{messages:[{role:"user",content:$u}],max_tokens:24,temperature:0}')
	start_server reuse "$server" -m "$work/chat.gguf" --slots 2 || return 1
	last="turn 1"; post /v1/chat/completions "$turn1"
	expect 200 '.usage.prompt_tokens_details.cached_tokens == 0' || return 1
	n1=$(jq .usage.prompt_tokens "$work/body")
	turn2=$(jq -c --argjson t1 "$turn1" '$t1 | .messages += [{role:"assistant",
		content:$a}, {role:"user",content:"And then?"}]' \
		--arg a "$(jq -j '.choices[0].message.content' "$work/body")" -n)
	last="turn 2"; post /v1/chat/completions "$turn2"
	expect 200 '.usage.completion_tokens >= 1' || return 1
	n2=$(jq .usage.prompt_tokens "$work/body")
	cached=$(jq .usage.prompt_tokens_details.cached_tokens "$work/body")
	got=$(jq -c .choices "$work/body")
	# Whole blocks of 32 of turn 1's prompt at least (its last token may
	# tokenize differently before the answer), never the whole of turn 2's.
	blocks=$(((n1 - 1) / 32 * 32))
	if [ "$cached" -lt "$blocks" ] || [ "$blocks" -lt 32 ] || [ $((cached % 32)) -ne 0 ] ||
	   [ "$cached" -ge "$n2" ]; then
		why "turn 2 ($n2 prompt tokens) took over $cached, turn 1 had $n1"
		return 1
	fi
	get /metrics
	grep -q "^tnpu_prompt_tokens_reused_total $cached\$" "$work/body" ||
		{ why "metrics: $(grep '^tnpu_prompt_tokens_reused_total' "$work/body"), not $cached"; return 1; }
	stop_server || return 1

	# A fresh server computes all of turn 2: the same answer.
	start_server reuse-fresh "$server" -m "$work/chat.gguf" --slots 2 || return 1
	last="turn 2, fresh"; post /v1/chat/completions "$turn2"
	expect 200 '.usage.prompt_tokens_details.cached_tokens == 0' || return 1
	want=$(jq -c .choices "$work/body")
	stop_server || return 1
	[ "$got" = "$want" ] || { why "turn 2 after turn 1: $got; fresh: $want"; return 1; }
	summary="turn 2 ($n2 prompt tokens) took $cached over from turn 1 ($n1), in usage and /metrics; its answer is a fresh server's"
}

# chats N FROM: N greedy chats through the balancer, 4 at a time, into
# $work/scale-FROM.json on; each must be 200.
chats() {
	local n=$1 from=$2 body='{"messages":[{"role":"user","content":"Scale out"}],"max_tokens":16,"temperature":0}'

	seq "$from" $((from + n - 1)) | xargs -P 4 -I{} curl -s -o "$work/scale-{}.json" \
		-w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary "$body" \
		"$lb/v1/chat/completions" >"$work/scale-status.txt"
	[ "$(grep -c '^200$' "$work/scale-status.txt")" -eq "$n" ] ||
		{ why "through HAProxy: $(sort "$work/scale-status.txt" | uniq -c | paste -sd ' ')"; return 1; }
}

# served URL: chat completions answered 200 by the instance at URL.
served() {
	curl -s "$1/metrics" |
		sed -n 's/^tnpu_requests_total{endpoint="\/v1\/chat\/completions",status="200"} //p' |
		grep . || echo 0
}

scaleout_run() {
	local url1 url2 port n1 n2 i want

	command -v haproxy >/dev/null || { why "no haproxy (tests/setup-deps.sh installs it)"; return 1; }
	start_server scale-1 "$server" -m "$work/chat.gguf" --slots 2 || return 1
	url1=$url
	scale_pids+=("$pid")
	start_server scale-2 "$server" -m "$work/chat.gguf" --slots 2 || return 1
	url2=$url
	scale_pids+=("$pid")
	pid=""
	# HAProxy takes no port 0: a free one, from the kernel.
	port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
		() => { console.log(s.address().port); s.close(); });')
	lb=http://127.0.0.1:$port
	TNPU_LB_BIND=127.0.0.1:$port TNPU_SERVER1=${url1#http://} TNPU_SERVER2=${url2#http://} \
		haproxy -db -f "$HERE/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
	scale_pids+=("$!")
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$lb/health")" = 200 ] && break
		sleep 0.1
	done
	[ "$i" -lt 100 ] || { why "HAProxy did not answer: $(tail -n 5 "$work/haproxy.log")"; return 1; }

	chats 12 1 || return 1
	n1=$(served "$url1")
	n2=$(served "$url2")
	if [ "$n1" -lt 1 ] || [ "$n2" -lt 1 ] || [ $((n1 + n2)) -ne 12 ]; then
		why "12 requests through HAProxy: $n1 served by one instance, $n2 by the other"
		return 1
	fi
	want=$(jq -c '.choices' "$work/scale-1.json")
	[ "$(jq -r '.choices[0].finish_reason' "$work/scale-1.json")" = length ] ||
		{ why "an answer: $(head -c 300 "$work/scale-1.json")"; return 1; }

	# The first instance stops: the other serves the rest.
	pid=${scale_pids[0]}
	stop_server || return 1
	pid=""
	chats 4 13 || return 1
	[ "$(served "$url2")" -eq $((n2 + 4)) ] ||
		{ why "with one instance stopped, the other served $(($(served "$url2") - n2)) of 4"; return 1; }
	for ((i = 2; i <= 16; i++)); do
		[ "$(jq -c '.choices' "$work/scale-$i.json")" = "$want" ] ||
			{ why "answer $i: $(jq -c .choices "$work/scale-$i.json"), not $want"; return 1; }
	done
	summary="12 chats through HAProxy: $n1 and $n2 served by the two instances; 4 more with one stopped, all by the other; 16 identical greedy answers"
}

part_scaleout() {
	local rc=0 p

	scale_pids=()
	scaleout_run || rc=1
	# On success the first instance has stopped already; the second must end cleanly too.
	if [ "$rc" -eq 0 ]; then
		pid=${scale_pids[1]}
		stop_server || rc=1
		pid=""
	fi
	for p in "${scale_pids[@]}"; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	return "$rc"
}

part_priority() {
	start_server priority "$server" -m "$work/small.gguf" --slots 2 --priority lo=low \
		--priority hi=high || return 1
	node "$HERE/priority.mjs" "$url" lo hi >"$work/priority-client.log" 2>&1 ||
		{ why "$(cat "$work/priority-client.log")"; stop_server; return 1; }
	stop_server || return 1
	summary=$(sed 's/^priority: //' "$work/priority-client.log")
}

part_page() {
	local msg="Hello from Chromium"

	start_server page "$server" -m "$work/small.gguf" --slots 1 --api-key page-key || return 1
	post /v1/chat/completions "$(jq -nc --arg m "$msg" \
		'{messages:[{role:"user",content:$m}],max_tokens:256,temperature:0}')" \
		-H 'Authorization: Bearer page-key'
	[ "$status" = 200 ] || { why "the API: $status"; return 1; }
	jq -j '.choices[0].message.content' "$work/body" >"$work/page-want.txt"
	mkdir -p "$O/check"
	node --experimental-websocket --no-warnings "$HERE/page.mjs" --chromium chromium \
		--url "$url" --key page-key --message "$msg" --want-file "$work/page-want.txt" \
		--screenshot "$O/check/server-page.png" --profile "$work/chromium" \
		>"$work/page-client.log" 2>&1 ||
		{ why "$(tail -n 5 "$work/page-client.log")"; stop_server; return 1; }
	stop_server || return 1
	summary="$(head -n 1 "$work/page-client.log" | sed 's/^page: //'); the API's text; screenshot build/check/server-page.png"
}

part_load() {
	local body='{"model":"chat","messages":[{"role":"user","content":"Load test"}],"max_tokens":32,"temperature":0}'

	start_server load "$server" -m "$work/chat.gguf" --slots 4 || return 1
	printf '%s' "$body" >"$work/load-body.json"
	post /v1/chat/completions "$body"
	[ "$status" = 200 ] || { why "single client: $status"; return 1; }
	cp "$work/body" "$work/load-want.json"
	wrk -t 2 -c 8 -d "${SERVER_LOAD_TIME:-5}s" --timeout 30s -s "$HERE/load.lua" "$url" -- \
		"$work/load-body.json" "$work/load-want.json" >"$work/load.log" 2>&1 ||
		{ why "wrk failed: $(tail -n 3 "$work/load.log")"; return 1; }
	stop_server || return 1
	sed -n 's/^load: /  /p' "$work/load.log"
	grep -Eq '^load: ([0-9]+) requests in .*, \1 answers of 200, \1 identical .*errors: connect 0, read 0, write 0, status 0, timeout 0$' \
		"$work/load.log" || { why "$(grep '^load:' "$work/load.log" | head -n 1)"; return 1; }
	summary="8 connections for ${SERVER_LOAD_TIME:-5} s: no failure, every answer the single client's"
}

part_shutdown() {
	local body='{"messages":[{"role":"user","content":"Go on"}],"max_tokens":300,"temperature":0,"stream":true}'
	local rc=0 i

	start_server shutdown "$server" -m "$work/small.gguf" --slots 2 \
		--trace "$work/shutdown-trace.json" || return 1
	curl -sN -H 'Content-Type: application/json' -d "$body" "$url/v1/chat/completions" \
		>"$work/shutdown.sse" &
	local client=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^data: ' "$work/shutdown.sse")" -ge 5 ] && break
		sleep 0.05
	done
	kill -TERM "$pid"
	sleep 0.2
	# No longer accepting, while the answer in flight goes on.
	if curl -s -o /dev/null "$url/health"; then
		why "a new connection was accepted after SIGTERM"
		return 1
	fi
	wait "$client" || { why "the streaming client failed"; return 1; }
	wait "$pid" || rc=$?
	[ "$rc" -eq 0 ] || { why "exit status $rc after SIGTERM"; return 1; }
	[ "$(tail -n 2 "$work/shutdown.sse" | head -n 1)" = "data: [DONE]" ] ||
		{ why "the answer in flight did not end with [DONE]"; return 1; }
	sed -n 's/^data: //p' "$work/shutdown.sse" | grep -v '^\[DONE\]$' | jq -se \
		'[.[].choices[0].finish_reason | select(. != null)] == ["length"]' >/dev/null ||
		{ why "the answer in flight was cut: $(tail -c 300 "$work/shutdown.sse")"; return 1; }
	if ! grep -q "finishing the requests in flight" "$work/shutdown.log" ||
	   ! grep -q "tnpu-server: stopped" "$work/shutdown.log"; then
		why "no shutdown messages"
		return 1
	fi
	# --trace: the engine's jobs, whole, written at exit.
	grep -q "tnpu-server: trace .* events of [0-9]* jobs$" "$work/shutdown.log" ||
		{ why "no trace summary at exit"; return 1; }
	"$TOP/tests/trace/check-trace.sh" "$work/shutdown-trace.json" >"$work/shutdown-trace.log" 2>&1 ||
		{ why "the trace: $(tail -n 5 "$work/shutdown-trace.log")"; return 1; }
	summary="SIGTERM mid-stream: new connections refused, the answer ended whole (300 tokens), exit 0; --trace: $(sed -n 's/^check-trace: \([0-9]* jobs ([^)]*)\).*/\1/p' "$work/shutdown-trace.log" | head -n 1)"
}

# bad_case NAME WANT-STATUS JQ-FILTER CURL-ARG...: one row of the table.
bad_case() {
	local name=$1 want=$2 filter=$3 msg

	shift 3
	status=$(curl -s -o "$work/body" -w '%{http_code}' "$@") || true
	msg=$(jq -r '.error.message // empty' "$work/body" 2>/dev/null | head -c 90)
	printf '  %-34s %s  %s\n' "$name" "$status" "$msg" >>"$work/bad-table.txt"
	if [ "$status" != "$want" ] || ! jq -e "$filter" "$work/body" >/dev/null 2>&1; then
		why "$name: status $status (want $want): $(head -c 300 "$work/body")"
		return 1
	fi
	# Every bad request: the server still answers a good one (when a slot is free).
	[ "$want" = 503 ] && return 0
	post /v1/chat/completions "$good"
	[ "$status" = 200 ] || { why "after '$name' a good request got $status"; return 1; }
}

# generations_ended: the server's count of generations that ended, however.
generations_ended() {
	get /metrics
	awk '/^tnpu_generations_total\{/ { n += $2 } END { print n + 0 }' "$work/body"
}

# cancelled N: the server counts N generations ended by a hang-up, none active.
cancelled() {
	local i

	for ((i = 0; i < 100; i++)); do
		get /metrics
		grep -q "^tnpu_generations_total{finish=\"cancelled\"} $1\$" "$work/body" &&
			grep -q '^tnpu_active_sessions 0$' "$work/body" && return 0
		sleep 0.1
	done
	why "not $1 generations cancelled, or one still active: $(grep -E 'finish=|active' \
		"$work/body" | tr '\n' ' ')"
	return 1
}

part_bad() {
	local long fds=() busy=() i n rc=0 c=(-H 'Content-Type: application/json') chat hostport fd
	local status_busy
	good='{"messages":[{"role":"user","content":"ok?"}],"max_tokens":4,"temperature":0}'

	if ! make -C "$TOP" --no-print-directory -j2 O="$O_ASAN" SAN=1 server \
		>"$work/asan-build.log" 2>&1; then
		why "ASan build failed (log: $work/asan-build.log)"
		return 1
	fi
	export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	start_server bad "$asan_server" -m "$work/small.gguf" --slots 2 --max-queue 0 \
		--max-body 1048576 || return 1
	chat="$url/v1/chat/completions"
	: >"$work/bad-table.txt"
	{
	bad_case "malformed JSON" 400 '.error.message | test("malformed JSON at line 1, column 14")' \
		"${c[@]}" --data-binary '{"messages": x}' "$chat" &&
	bad_case "truncated JSON" 400 '.error.message | test("malformed JSON.*end of file")' \
		"${c[@]}" --data-binary '{"messages": [{"role": "user", "content": "hi"' "$chat" &&
	bad_case "not an object" 400 '.error.message | test("must be a JSON object")' \
		"${c[@]}" --data-binary '[1,2]' "$chat" &&
	bad_case "messages: a string" 400 '.error.param == "messages"' \
		"${c[@]}" --data-binary '{"messages":"hi"}' "$chat" &&
	bad_case "max_tokens: a string" 400 '.error.param == "max_tokens" and (.error.message | test("integer"))' \
		"${c[@]}" --data-binary '{"messages":[{"role":"user","content":"a"}],"max_tokens":"5"}' "$chat" &&
	bad_case "temperature: 5" 400 '.error.message | test("between 0 and 2, not 5")' \
		"${c[@]}" --data-binary '{"messages":[{"role":"user","content":"a"}],"temperature":5}' "$chat" &&
	bad_case "unknown model" 404 '.error.code == "model_not_found"' \
		"${c[@]}" --data-binary '{"model":"gpt-4","messages":[{"role":"user","content":"a"}]}' "$chat" &&
	bad_case "max_tokens 0" 400 '.error.message | test("at least 1, not 0")' \
		"${c[@]}" --data-binary '{"messages":[{"role":"user","content":"a"}],"max_tokens":0}' "$chat" &&
	bad_case "max_tokens 10^12" 400 '.error.message | test("more than this server allows \\(1024\\)")' \
		"${c[@]}" --data-binary '{"messages":[{"role":"user","content":"a"}],"max_tokens":1000000000000}' "$chat" &&
	bad_case "max_tokens beyond the context" 400 '.error.code == "context_length_exceeded"' \
		"${c[@]}" --data-binary '{"messages":[{"role":"user","content":"a"}],"max_tokens":1000}' "$chat"
	} || return 1
	long=$(head -c 3000 /dev/zero | tr '\0' 'a' | sed 's/a\{10\}/aaaa bbbb /g')
	printf '{"messages":[{"role":"user","content":"%s"}]}' "$long" >"$work/long.json"
	truncate -s 100M "$work/100mb.json"
	head -c 2000000 /dev/zero >"$work/2mb.json"
	{
	bad_case "prompt longer than the context" 400 '.error.code == "context_length_exceeded" and (.error.message | test("maximum context length is 1024 tokens"))' \
		"${c[@]}" --data-binary @"$work/long.json" "$chat" &&
	bad_case "100 MB body" 413 '.error.message | test("104857600 bytes, more than this server takes \\(1048576")' \
		"${c[@]}" --data-binary @"$work/100mb.json" "$chat" &&
	bad_case "2 MB body, chunked" 413 '.error.message | test("2000000 bytes, more than this server takes \\(1048576")' \
		"${c[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$work/2mb.json" "$chat" &&
	bad_case "tools (not supported)" 400 '.error.param == "tools"' \
		"${c[@]}" --data-binary '{"messages":[{"role":"user","content":"a"}],"tools":[{"type":"function"}]}' "$chat"
	} || return 1
	# 100 MB chunked, from a pipe (no length anywhere): read and dropped, then the same 413.
	head -c 100000000 /dev/zero | bad_case "100 MB body, chunked" 413 \
		'.error.message | test("100000000 bytes, more than this server takes \\(1048576")' \
		"${c[@]}" -H 'Transfer-Encoding: chunked' --data-binary @- "$chat" || return 1

	# A client hangs up mid-stream: its generation stops early, and is
	# counted whether the engine or the HTTP side saw the hang-up first
	# (5 times, as that race goes either way).
	for ((i = 1; i <= 5; i++)); do
		node "$HERE/disconnect.mjs" "$chat" \
			'{"messages":[{"role":"user","content":"a long one"}],"max_tokens":900,"temperature":0,"stream":true}' \
			>"$work/disconnect.log" 2>&1 || { why "$(cat "$work/disconnect.log")"; return 1; }
		cancelled "$i" || return 1
	done
	printf '  %-34s %s  %s\n' "client hangs up mid-stream (x5)" 200 \
		"generation cancelled ($(sed 's/^disconnect: //' "$work/disconnect.log"))" >>"$work/bad-table.txt"

	# A client waiting for a whole answer hangs up: stopped too.
	curl -s -m 1 -o /dev/null "${c[@]}" --data-binary \
		'{"messages":[{"role":"user","content":"a long one"}],"max_tokens":900,"temperature":0}' \
		"$chat" && { why "a 900-token answer came within a second"; return 1; }
	cancelled 6 || return 1
	printf '  %-34s %s  %s\n' "client hangs up, not streamed" "-" "generation cancelled" \
		>>"$work/bad-table.txt"

	# Both slots busy (greedy, so no early end of turn) and no queue (--max-queue 0): 503, and Retry-After.
	ended0=$(generations_ended)
	for i in 1 2; do
		curl -sN -o /dev/null "${c[@]}" --data-binary \
			'{"messages":[{"role":"user","content":"busy"}],"max_tokens":900,"temperature":0,"stream":true}' \
			"$chat" &
		busy+=($!)
	done
	for ((i = 0; i < 100; i++)); do
		get /metrics
		grep -q '^tnpu_active_sessions 2$' "$work/body" && break
		sleep 0.1
	done
	bad_case "every slot busy, --max-queue 0" 503 '.error.code == "server_busy"' \
		"${c[@]}" -D "$work/headers" --data-binary "$good" "$chat" 2>/dev/null
	status_busy=$?
	grep -qi '^Retry-After: 1' "$work/headers" || { why "503 without Retry-After"; return 1; }
	kill "${busy[@]}"
	wait "${busy[@]}"
	# Each busy answer was cancelled by the kill, or (a fast machine) had
	# already ended by itself: both ended, one way or the other.
	for ((i = 0; i < 100; i++)); do
		ended=$(($(generations_ended) - ended0))
		[ "$ended" -eq 2 ] && grep -q '^tnpu_active_sessions 0$' "$work/body" && break
		sleep 0.1
	done
	[ "$ended" -eq 2 ] || {
		why "the two busy answers did not both end: $ended of them did ($(grep -E \
			'finish=|active' "$work/body" | tr '\n' ' '))"
		return 1
	}
	[ "$status_busy" -eq 0 ] || return 1

	# 200 connections opened and left idle; others are served meanwhile.
	hostport=${url#http://}
	for ((i = 0; i < 200; i++)); do
		exec {fd}<>"/dev/tcp/${hostport%:*}/${hostport##*:}" ||
			{ why "connection $i refused"; return 1; }
		fds+=("$fd")
	done
	sleep 0.5
	post /v1/chat/completions "$good"
	[ "$status" = 200 ] || { why "with 200 idle connections: $status"; return 1; }
	get /metrics
	n=$(sed -n 's/^tnpu_http_connections //p' "$work/body")
	[ "${n%.*}" -ge 201 ] || { why "$n connections open, not 201"; return 1; }
	printf '  %-34s %s  %s\n' "200 idle connections" 200 \
		"a request meanwhile: 200 ($n connections open)" >>"$work/bad-table.txt"
	for fd in "${fds[@]}"; do
		exec {fd}>&-
	done

	kill -TERM "$pid"
	wait "$pid" || rc=$?
	if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error' \
		"$work/bad.log"; then
		why "the ASan server exited $rc: $(grep -A 12 -E 'ERROR|runtime error' "$work/bad.log" | head -n 20)"
		return 1
	fi
	cat "$work/bad-table.txt"
	summary="$(wc -l <"$work/bad-table.txt") cases each with its status and message, a good request served after each; ASan/UBSan: no error, no leak"
}

part_vm() {
	local body='{"messages":[{"role":"user","content":"Hello"}],"max_tokens":12,"temperature":0}'

	[ -f "$TOP/tnpu.ko" ] || { why "no tnpu.ko (make module)"; return 1; }
	# The answer in process, as the server's JSON writes it.
	start_server vm-host "$server" -m "$work/chat.gguf" --slots 1 || return 1
	post /v1/chat/completions "$body"
	stop_server || return 1
	sed -n 's/.*"message":{"role":"assistant",\("content":".*"\)},"logprobs".*/\1/p' \
		"$work/body" >"$work/vm-want.txt"
	[ -s "$work/vm-want.txt" ] || { why "no content in $(cat "$work/body")"; return 1; }
	"$TOP/tests/vm/run-vm.sh" --workdir "$work/vm" --timeout 900 --quiet \
		--log "$work/vm-console.log" -- "$HERE/vm-guest.sh" "$server" "$(command -v curl)" \
		"$work/chat.gguf" "$work/vm-want.txt" >"$work/vm.log" 2>&1 ||
		{ why "$(grep -a 'server-vm' "$work/vm-console.log" | head -n 20; tail -n 5 "$work/vm.log")"; return 1; }
	grep -aq '^server-vm: ok' "$work/vm-console.log" || { why "no verdict from the guest"; return 1; }
	summary=$(grep -a '^server-vm: ' "$work/vm-console.log" | tr -d '\r' | sed 's/^server-vm: //' |
		paste -sd ';' | sed 's/;/; /g')
}

failed=0
for p in "${parts[@]}"; do
	reason=""
	summary=""
	t0=$(date +%s.%N)
	if "part_$p"; then
		say "$p: ok ($(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s) $summary"
	else
		say "$p: FAILED: $reason"
		failed=$((failed + 1))
		[ -z "${pid:-}" ] || kill "$pid" 2>/dev/null || true
	fi
	pid=""
done
exit $((failed ? 1 : 0))
