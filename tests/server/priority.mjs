// SPDX-License-Identifier: GPL-2.0 OR MIT
// Priorities per API key, in process: a low-priority answer is streaming
// when a high-priority one starts; while the high one runs, the low one
// must (nearly) stand still, as the slots take their turns on the NPU by
// priority. Counts tokens (a logprobs entry each, however the chunks
// group them), not time.
//
// Usage: node priority.mjs URL LOW-KEY HIGH-KEY
const [url, low, high] = process.argv.slice(2);

async function* chunks(key, maxTokens) {
	const r = await fetch(url + '/v1/chat/completions', {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + key },
		body: JSON.stringify({ messages: [{ role: 'user', content: 'go' }], stream: true,
			max_tokens: maxTokens, temperature: 0, logprobs: true }),
	});
	if (!r.ok)
		throw new Error(`${key}: status ${r.status}`);
	const dec = new TextDecoder();
	let buf = '';
	for await (const part of r.body) {
		buf += dec.decode(part, { stream: true });
		let end;
		while ((end = buf.indexOf('\n\n')) >= 0) {
			const ev = buf.slice(6, end);
			buf = buf.slice(end + 2);
			if (ev === '[DONE]')
				continue;
			for (const _ of JSON.parse(ev).choices[0]?.logprobs?.content ?? [])
				yield;
		}
	}
}

let lowCount = 0, highCount = 0, atStart = -1, atEnd = -1, lowDone = false;
let startHigh;
const highStarted = new Promise((resolve) => { startHigh = resolve; });
const lowRun = (async () => {
	for await (const _ of chunks(low, 600)) {
		lowCount++;
		if (lowCount === 5)
			startHigh();
	}
	lowDone = true;
})();
await highStarted;
for await (const _ of chunks(high, 100)) {
	if (highCount++ === 0)
		atStart = lowCount;
}
atEnd = lowCount;
await lowRun;
const moved = atEnd - atStart;
console.log(`priority: the high-priority answer streamed ${highCount} tokens; meanwhile the ` +
	`low one moved ${moved} (${lowCount} in all${lowDone ? '' : ', unfinished'})`);
// Round robin would move it as far as the high one; what was generated
// before the handover may still arrive: a quarter is allowed.
process.exit(highCount >= 50 && moved <= highCount / 4 ? 0 : 1);
