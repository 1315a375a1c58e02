#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0 OR MIT
/**
 * mock-tnpu-tokenize.mjs -m NAME.gguf --batch NAME.texts
 *
 * A stand-in for tnpu's C tokenizer tool, to test compare.mjs itself: it
 * answers with the reference's own ids and decode, so compare.mjs must report
 * every text identical. It reads the GGUF back (checking what gguf-vocab.mjs
 * wrote: version 3, no tensors, one type per token) and finds the vocabulary
 * by general.name.
 *
 * To check that differences are caught, set
 *   MOCK_TNPU_WRONG_ID=K      text K (0-based) gets its last id off by one
 *   MOCK_TNPU_WRONG_DECODE=K  text K's decode gets a stray "!" at the end
 *   MOCK_TNPU_ADD_BOS=1       every text gets a BOS first (an add_bos mix-up)
 */
import { readFileSync } from "node:fs";
import { TOKEN_TYPE, decodeGguf } from "./gguf-vocab.mjs";
import { loadTokenizer, makeReference, vocabName } from "./reference.mjs";

function fail(msg) {
  process.stderr.write(`mock-tnpu-tokenize: ${msg}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
const arg = (flag) => {
  const i = args.indexOf(flag);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : null;
};
const model = arg("-m");
const batch = arg("--batch");
if (!model || !batch) fail("usage: mock-tnpu-tokenize.mjs -m FILE.gguf --batch FILE.texts");

const { version, tensorCount, kv } = decodeGguf(readFileSync(model));
const tokens = kv.get("tokenizer.ggml.tokens");
const types = kv.get("tokenizer.ggml.token_type");
if (version !== 3 || tensorCount !== 0) fail(`${model}: GGUF v${version} with ${tensorCount} tensors`);
if (!tokens || types?.length !== tokens.length) fail(`${model}: tokens and token_type disagree`);
const controlIds = new Set();
types.forEach((t, id) => t === TOKEN_TYPE.CONTROL && controlIds.add(id));

const tok = await loadTokenizer(vocabName(kv.get("general.name")));
const ref = makeReference(tok);
const wrongId = Number(process.env.MOCK_TNPU_WRONG_ID ?? -1);
const wrongDecode = Number(process.env.MOCK_TNPU_WRONG_DECODE ?? -1);
const addBos = process.env.MOCK_TNPU_ADD_BOS === "1";

// NUL-terminated UTF-8 texts.
const raw = readFileSync(batch);
const texts = [];
for (let start = 0, end; start < raw.length; start = end + 1) {
  end = raw.indexOf(0, start);
  if (end < 0) fail(`${batch}: last text has no NUL`);
  texts.push(raw.toString("utf8", start, end));
}

const out = texts.map((text, i) => {
  const ids = ref.encode(text);
  if (addBos) ids.unshift(tok.bos_token_id);
  if (i === wrongId) {
    if (ids.length) ids[ids.length - 1] = (ids.at(-1) + 1) % tokens.length;
    else ids.push(0);
  }
  let hex = Buffer.from(ref.decode(ids, controlIds), "utf8").toString("hex");
  if (i === wrongDecode) hex += "21";
  return `${ids.join(" ")}\t${hex}\n`;
});
process.stdout.write(out.join(""));
