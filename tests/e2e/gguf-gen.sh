#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR MIT
# tnpu-gguf-gen: the llama/qwen2 presets write the same bytes as before the
# deepseek2 work (pinned sums); the deepseek2 presets write the tensors and
# keys of their form (legacy attn_kv_b, or --mla-split's attn_k_b/attn_v_b);
# every bad flag gets its own message and exit status 2, leaving no file.
# When the llama.cpp peer (../shared/peers/llama.cpp) is there, it must load
# and run ds2-tiny-q and a 27-layer ds2-tiny (its build takes a model without
# q_lora only at 27 layers, V2-Lite's count), and the Q4_K_M / Q5_K_M mixes
# with the tensor types llama-quantize gives them.
#
# Usage: tests/e2e/gguf-gen.sh   (needs make tools)
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
O=${O:-$TOP/build}
gen=$O/bin/tnpu-gguf-gen
work=$O/e2e/gguf-gen
peer=$TOP/../shared/peers/llama.cpp/bin/llama-cli
rm -rf "$work"
mkdir -p "$work"

make -C "$TOP" --no-print-directory tools >"$work/build.log" 2>&1 ||
	{ tail -n 30 "$work/build.log" >&2; echo "gguf-gen: build failed" >&2; exit 2; }

fail() {
	echo "gguf-gen: $*" >&2
	exit 1
}

# same_bytes SUM ARG...: the file written with ARG has sha256 SUM.
same_bytes() {
	local want=$1 got
	shift
	"$gen" -o "$work/m.gguf" "$@" >/dev/null
	got=$(sha256sum "$work/m.gguf" | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "'$*' wrote other bytes than before ($got)"
}
same_bytes 48ee2ec16c6d1a772eb42506f94c88a219e9efd65990222b47833c2f7a6e2a35
same_bytes b5f3865b2e5b71b0ca1a77f3a7529ac2d181cc09f5b4ebef493031852156d3e8 \
	--arch qwen2 --tokenizer gpt2 --type q8_0 --vocab 300 --seed 7 --layers 3
same_bytes 7c01f3dd24842a80cd26431ecca3ea1988420fe084865c5df321d83e8d48d281 --preset small --type f16

# has FILE STRING...: every STRING is in FILE; lacks: none is.
has() {
	local f=$1
	shift
	for s in "$@"; do grep -qaF -- "$s" "$f" || fail "$(basename "$f") lacks '$s'"; done
}
lacks() {
	local f=$1
	shift
	for s in "$@"; do ! grep -qaF -- "$s" "$f" || fail "$(basename "$f") has '$s'"; done
}
"$gen" -o "$work/tiny.gguf" --preset ds2-tiny >/dev/null
has "$work/tiny.gguf" deepseek2.expert_count blk.1.ffn_gate_exps blk.0.ffn_gate.weight \
	blk.2.ffn_down_shexp attn_kv_b deepseek-llm blk.0.attn_q.weight
lacks "$work/tiny.gguf" attn_q_a exp_probs_b rope.scaling.type blk.1.ffn_gate.weight attn_k_b
"$gen" -o "$work/tiny-q.gguf" --preset ds2-tiny-q >/dev/null
has "$work/tiny-q.gguf" attn_q_a_norm exp_probs_b.bias expert_group_used_count \
	rope.scaling.original_context_length deepseek-v3
lacks "$work/tiny-q.gguf" blk.0.attn_q.weight
"$gen" -o "$work/split.gguf" --preset ds2-tiny --mla-split >/dev/null
has "$work/split.gguf" attn_k_b attn_v_b key_length_mla value_length_mla
lacks "$work/split.gguf" attn_kv_b
echo "gguf-gen: old presets' bytes unchanged; ds2-tiny, ds2-tiny-q, --mla-split written"

# usage_error MESSAGE ARG...: exit status 2, MESSAGE on stderr, no file left.
usage_error() {
	local want=$1 rc=0
	shift
	rm -f "$work"/bad.gguf*
	"$gen" -o "$work/bad.gguf" "$@" >"$work/out" 2>"$work/err" || rc=$?
	[ "$rc" -eq 2 ] || fail "'$*' exited $rc, want 2"
	grep -qF -- "$want" "$work/err" || fail "'$*' said '$(cat "$work/err")', not '$want'"
	! compgen -G "$work/bad.gguf*" >/dev/null || fail "'$*' left $(ls "$work"/bad.gguf*)"
}
usage_error "--experts-used needs a positive integer" --preset ds2-tiny --experts-used 0
usage_error "more than the 8 experts" --preset ds2-tiny --experts-used 9
usage_error "do not divide into ds2-tiny-q's 4 expert groups" --preset ds2-tiny-q --experts 6
usage_error "leave 1 per group" --preset ds2-tiny-q --experts 4
usage_error "in the 2 groups a token may use" --preset ds2-tiny-q --experts-used 5
usage_error "kv_lora 500 (--kv-lora) is not a multiple of 32" --preset v2-lite --kv-lora 500
usage_error "q_lora 100 (--q-lora) is not a multiple of 32" --preset v2-lite --q-lora 100
usage_error "expert ffn 1408 (--expert-ffn) is not a multiple of 256" --preset v2-lite --type q4_k
usage_error "blk.0.attn_k_b.weight has rows of 32 elements" --preset ds2-tiny --mla-split \
	--type q4_k --dim 256 --ffn 256 --expert-ffn 256 --kv-lora 256
usage_error "--kv-heads does not apply to preset ds2-tiny" --preset ds2-tiny --kv-heads 1
usage_error "--arch does not apply to preset v2-lite" --preset v2-lite --arch llama
usage_error "--experts applies to the deepseek2 presets" --preset tiny --experts 8
usage_error "--mla-split applies to the deepseek2 presets" --preset 1.5b --mla-split
usage_error "(deepseek2: use a deepseek2 preset)" --arch deepseek2
usage_error "vocab 200 (--vocab) is less than 263" --preset ds2-tiny --vocab 200
usage_error "--eos 'nope' is not a --special token" --special '<|im_end|>' --eos nope
usage_error "vocab 300 leaves no room for 1 --special tokens" --vocab 300 --special '<|x|>'
usage_error "--chat-template $work/none.jinja: No such file" --chat-template "$work/none.jinja"
echo "gguf-gen: bad flags refused with their messages, no file left"

# A chat model: the template is stored as written, each control token is one
# token (of the vocabulary's last ids).
printf '%s' "{{ '<|im_start|>' }}chat template ÿ" >"$work/chat.jinja"
for tok in gpt2 llama; do
	"$gen" -o "$work/chat.gguf" --tokenizer "$tok" --chat-template "$work/chat.jinja" \
		--special '<|im_start|>' --special '<|im_end|>' --eos '<|im_end|>' >/dev/null
	has "$work/chat.gguf" "tokenizer.chat_template" "$(cat "$work/chat.jinja")"
	ids=$("$O/bin/tnpu-tokenize" -m "$work/chat.gguf" --no-bos -p '<|im_start|><|im_end|>' |
		head -n 1)
	if [ "$tok" = gpt2 ]; then want="2 tokens: 509 510"; else want="2 tokens: 510 511"; fi
	[ "$ids" = "$want" ] || fail "$tok chat model: control tokens gave '$ids', not '$want'"
done
echo "gguf-gen: --chat-template, --special and --eos written"

if [ ! -x "$peer" ]; then
	echo "gguf-gen: llama.cpp peer skipped ($peer absent)"
	exit 0
fi
"$gen" -o "$work/tiny27.gguf" --preset ds2-tiny --layers 27 >/dev/null
for m in tiny-q tiny27; do
	# Not from the peer's bin/: ggml would take CPU variants from the current directory.
	(cd "$work" && "$peer" -m "$work/$m.gguf" -p hi -n 4 --temp 0 -no-cnv -t 1 \
		>"$work/peer-$m.log" 2>&1) ||
		{ tail -n 20 "$work/peer-$m.log" >&2; fail "the peer did not run $m"; }
	grep -aq "n_expert_shared *= 1" "$work/peer-$m.log" || fail "the peer's $m log lacks n_expert_shared"
done
grep -aq "expert_gating_func *= sigmoid" "$work/peer-tiny-q.log" || fail "the peer took tiny-q's gating"
echo "gguf-gen: the llama.cpp peer loads and runs ds2-tiny-q and ds2-tiny at 27 layers"

# llama-quantize's mixes: of 8 layers, 0, 3, 6 and 7 take Q6_K for attn_v and
# ffn_down (9 Q6_K tensors with output.weight), the other 49 matrices the
# base type; the peer counts the types as it loads them.
for t in q4_k_m q5_k_m; do
	"$gen" -o "$work/$t.gguf" --type "$t" --layers 8 --dim 256 --heads 4 --kv-heads 2 \
		--ffn 512 --vocab 300 >/dev/null
	(cd "$work" && "$peer" -m "$work/$t.gguf" -p hi -n 2 --temp 0 -no-cnv -t 1 \
		>"$work/peer-$t.log" 2>&1) ||
		{ tail -n 20 "$work/peer-$t.log" >&2; fail "the peer did not run $t"; }
	base=${t:0:2}_K
	grep -aEq "type +q6_K: +9 tensors" "$work/peer-$t.log" || fail "$t: not 9 Q6_K tensors"
	grep -aEq "type +$base: +49 tensors" "$work/peer-$t.log" || fail "$t: not 49 $base tensors"
done
echo "gguf-gen: the llama.cpp peer loads and runs the Q4_K_M and Q5_K_M mixes"
