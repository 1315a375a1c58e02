// SPDX-License-Identifier: GPL-2.0 OR MIT
// Benchmark (not a test): N concurrent streamed greedy completions against
// a running tnpu-server, for each N given. Prints per N: the aggregate
// decode tokens/s while all N streams decode (from the last stream's first
// token to the first stream's last: prefills are outside that window), the
// time per token of a stream in that window, and the time to first token
// (p50, max). Tokens are counted by their logprobs entries.
//
// Usage: node tests/bench/server-streams.mjs URL [--streams 1,2,4,8] [--tokens 64]
//        [--key KEY]
const url = process.argv[2];
const opt = { streams: '1,2,4,8', tokens: '64', key: '' };
for (let i = 3; i < process.argv.length; i += 2)
	opt[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

async function stream(i, t0) {
	const headers = { 'Content-Type': 'application/json' };
	if (opt.key)
		headers.Authorization = 'Bearer ' + opt.key;
	const r = await fetch(url + '/v1/completions', {
		method: 'POST', headers, body: JSON.stringify({
			prompt: `Stream ${i} says`, max_tokens: Number(opt.tokens), temperature: 0,
			stream: true, logprobs: 0,
		}),
	});
	if (!r.ok)
		throw new Error(`status ${r.status}`);
	const dec = new TextDecoder();
	let buf = '', n = 0, first = 0, last = 0;
	const times = [];
	for await (const part of r.body) {
		buf += dec.decode(part, { stream: true });
		let end;
		while ((end = buf.indexOf('\n\n')) >= 0) {
			const ev = buf.slice(6, end);
			buf = buf.slice(end + 2);
			if (ev === '[DONE]')
				continue;
			const k = JSON.parse(ev).choices[0]?.logprobs?.tokens?.length ?? 0;
			if (!k)
				continue;
			const now = performance.now();
			if (!n)
				first = now;
			n += k;
			last = now;
			for (let j = 0; j < k; j++)
				times.push(now);
		}
	}
	return { n, ttft: first - t0, first, last, times };
}

for (const n of opt.streams.split(',').map(Number)) {
	const t0 = performance.now();
	const res = await Promise.all(Array.from({ length: n }, (_, i) => stream(i, t0)));
	const from = Math.max(...res.map((r) => r.first)), to = Math.min(...res.map((r) => r.last));
	const inWindow = res.reduce((a, r) => a + r.times.filter((t) => t > from && t <= to).length, 0);
	const ttft = res.map((r) => r.ttft).sort((a, b) => a - b);
	if (!(to > from)) {
		console.log(`streams ${n}: no time when all decoded at once: give more --tokens`);
		continue;
	}
	const rate = inWindow / ((to - from) / 1000);
	console.log(`streams ${n}: aggregate ${rate.toFixed(1)} tokens/s while all decode ` +
		`(${inWindow} tokens in ${((to - from) / 1000).toFixed(2)} s), ` +
		`${(1000 * n / rate).toFixed(1)} ms/token per stream; time to first token ` +
		`p50 ${ttft[Math.floor(n / 2)].toFixed(0)} ms, max ${ttft[n - 1].toFixed(0)} ms`);
}
