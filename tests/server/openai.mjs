// SPDX-License-Identifier: GPL-2.0 OR MIT
// The official OpenAI client against tnpu-server: streams a greedy chat
// completion and prints its text as JSON on the last line (the caller
// compares it with tnpu-run), after checking what the stream carried.
//
// Usage: node openai.mjs --npm DIR --url http://HOST:PORT/v1 --key KEY
//        --model NAME --max-tokens N --message TEXT
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
	args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const { default: OpenAI } = await import(pathToFileURL(
	path.join(args.npm, 'node_modules/openai/index.mjs')).href);

const client = new OpenAI({ baseURL: args.url, apiKey: args.key, maxRetries: 0, timeout: 60000 });
const fail = (msg) => {
	console.error('openai: ' + msg);
	process.exit(1);
};

const models = await client.models.list();
const ids = models.data.map((m) => m.id);
if (!ids.includes(args.model))
	fail(`models.list() gave ${JSON.stringify(ids)}, not ${args.model}`);

const stream = await client.chat.completions.create({
	model: args.model,
	messages: [{ role: 'user', content: args.message }],
	max_tokens: Number(args['max-tokens']),
	temperature: 0,
	stream: true,
	stream_options: { include_usage: true },
});
let text = '', chunks = 0, role = null, finish = null, usage = null;
for await (const chunk of stream) {
	if (chunk.usage)
		usage = chunk.usage;
	const c = chunk.choices[0];
	if (!c)
		continue;
	if (c.delta.role)
		role = c.delta.role;
	if (c.delta.content) {
		text += c.delta.content;
		chunks++;
	}
	if (c.finish_reason)
		finish = c.finish_reason;
}
if (role !== 'assistant')
	fail(`the stream's role was ${role}`);
if (!['stop', 'length'].includes(finish))
	fail(`finish_reason ${finish}`);
if (!usage || usage.completion_tokens < 1 || usage.total_tokens !== usage.prompt_tokens +
    usage.completion_tokens)
	fail(`usage ${JSON.stringify(usage)}`);
if (chunks < 2)
	fail(`only ${chunks} content chunks: not streamed`);

// Not streamed: the same text.
const whole = await client.chat.completions.create({
	model: args.model, messages: [{ role: 'user', content: args.message }],
	max_tokens: Number(args['max-tokens']), temperature: 0,
});
if (whole.choices[0].message.content !== text)
	fail(`streamed ${JSON.stringify(text)} but not streamed ${JSON.stringify(
		whole.choices[0].message.content)}`);

// A wrong key is an AuthenticationError.
try {
	await new OpenAI({ baseURL: args.url, apiKey: 'wrong', maxRetries: 0 }).models.list();
	fail('a wrong key was accepted');
} catch (e) {
	if (e.status !== 401)
		fail(`a wrong key gave ${e.status} ${e.message}`);
}
console.log(`openai: streamed ${chunks} chunks, ${usage.completion_tokens} tokens, ` +
	`finish ${finish}; the same text unstreamed; a wrong key: 401`);
console.log(JSON.stringify(text));
