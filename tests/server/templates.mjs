// SPDX-License-Identifier: GPL-2.0 OR MIT
// The server's C chat templates against the real Jinja templates
// (tests/server/templates/*.jinja) run by @huggingface/jinja, the Jinja
// engine of transformers.js: every conversation below must give the same
// prompt byte for byte, or an error from both.
//
// Usage: node templates.mjs --render BIN --npm DIR --templates DIR --work DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
	args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const { Template } = await import(pathToFileURL(
	path.join(args.npm, 'node_modules/@huggingface/jinja/dist/index.js')).href);

const u = (c) => ({ role: 'user', content: c });
const a = (c) => ({ role: 'assistant', content: c });
const s = (c) => ({ role: 'system', content: c });
const conversations = [
	[u('Hello')],
	[s('You are terse.'), u('Hi there')],
	[s('Be brief.'), u('What is an NPU?'), a('A neural processing unit.'), u('And a GPU?')],
	[u('one'), a('two'), u('three')],
	[u('  padded \n\t'), a('\n answer with spaces \n'), u('\n\nnext\n')],
	[u('emoji 🦙🚀, 中文, e\u0301, Ελληνικά, עברית, \u00a0nbsp\u3000ideographic space')],
	[u('braces {{ x }} {% if y %} and quotes \' " \\ and <|im_end|> written out')],
	[u('Think?'), a('<think>\nreasoning here\n</think>\n\nThe answer.'), u('Again')],
	[u('Q'), a('<think>a</think>b</think>c'), u('R')],
	[s('First system.'), s('Second system.'), u('Which one?')],
	[u('before'), s('system in the middle'), u('after')],
	[s(''), u('')],
	[u('a'), a('b'), u('c'), a('d'), u('e'), a('f'), u('g')],
	[u('Last is the assistant'), a('<think>\nhidden\n</think>\n\nshown')],
	[u('Q1'), a('A1'), u('<tool_response>\nout\n</tool_response>'), a('<think>x</think>y')],
	[a('assistant first'), u('then user')],
	[u('two users'), u('in a row')],
	[s('only a system message')],
	[u('tabs\tand\r\nCRLF\r\n'), a('\u2028line sep\u2029')],
];

const cases = {
	bos: '<s>', eos: '</s>', date: '07 Dec 2025',
	conversations: [
		...conversations.map((messages) => ({ messages })),
		{ messages: [u('No thinking please')], enable_thinking: false },
		{ messages: [u('Thinking on')], enable_thinking: true },
	],
};
fs.mkdirSync(args.work, { recursive: true });
const casesFile = path.join(args.work, 'cases.json');
fs.writeFileSync(casesFile, JSON.stringify(cases));

// Where @huggingface/jinja departs from Python's Jinja (which transformers
// and the model authors run), the prompt Python gives, derived by hand:
// its lstrip('\n') and strip('\n') strip all white space, not just '\n',
// and it takes '' != false as false.
const python = {
	'llama2-chat.jinja#11': '<s>[INST] <<SYS>>\n\n<</SYS>> [/INST]',
	'qwen3.jinja#18': '<|im_start|>user\ntabs\tand\r\nCRLF\r\n<|im_end|>\n' +
		'<|im_start|>assistant\n<think>\n\n</think>\n\n\u2028line sep\u2029<|im_end|>\n' +
		'<|im_start|>assistant\n',
};

let failed = 0;
for (const file of fs.readdirSync(args.templates).filter((f) => f.endsWith('.jinja')).sort()) {
	const text = fs.readFileSync(path.join(args.templates, file), 'utf8');
	const c = JSON.parse(execFileSync(args.render, [path.join(args.templates, file), casesFile],
		{ encoding: 'utf8' }));
	if (c.template === null) {
		console.log(`templates ${file}: not rendered in C (${c.why})`);
		continue;
	}
	const tmpl = new Template(text);
	let same = 0;
	const diffs = [];
	cases.conversations.forEach((conv, i) => {
		const ctx = {
			messages: conv.messages, add_generation_prompt: true, bos_token: cases.bos,
			eos_token: cases.eos, date_string: cases.date,
		};
		if ('enable_thinking' in conv)
			ctx.enable_thinking = conv.enable_thinking;
		let want;
		try {
			want = { prompt: tmpl.render(ctx) };
		} catch (e) {
			want = { error: e.message };
		}
		if (python[`${file}#${i}`] !== undefined) {
			if (want.prompt === python[`${file}#${i}`])
				throw new Error(`${file}#${i}: the Jinja engine agrees with Python now`);
			want = { prompt: python[`${file}#${i}`] };
		}
		const got = c.results[i];
		const ok = 'error' in want ? 'error' in got : got.prompt === want.prompt;
		if (ok)
			same++;
		else
			diffs.push({ conversation: i, jinja: want, c: got });
	});
	console.log(`templates ${file} (${c.template}): ${cases.conversations.length} ` +
		`conversations, ${same} identical`);
	for (const d of diffs.slice(0, 5))
		console.log('  differs: ' + JSON.stringify(d));
	if (diffs.length)
		failed++;
}
process.exit(failed ? 1 : 0);
