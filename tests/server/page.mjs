// SPDX-License-Identifier: GPL-2.0 OR MIT
// The chat page in Debian's headless Chromium, driven over the DevTools
// protocol: the page loads, a message is typed and sent with Enter, the
// answer grows on screen as it streams (seen in several states before its
// end), ends with its tokens/s, and is the text the API gives for the same
// greedy request. A screenshot is saved.
//
// Usage: node --experimental-websocket page.mjs --chromium BIN --url URL
//        --key KEY --message TEXT --want-file FILE --screenshot OUT.png --profile DIR
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
	args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const want = fs.readFileSync(args['want-file'], 'utf8');
const fail = (msg) => {
	console.error('page: ' + msg);
	browser.kill('SIGKILL');
	process.exit(1);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = spawn(args.chromium, [
	'--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
	'--disable-extensions', '--disable-background-networking', '--no-default-browser-check',
	'--remote-debugging-port=0', `--user-data-dir=${args.profile}`, '--window-size=1100,760',
	'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'] });
const timer = setTimeout(() => fail('timed out'), 90000);

// The browser's DevTools endpoint, from its stderr.
const wsUrl = await new Promise((resolve, reject) => {
	let err = '';
	browser.stderr.on('data', (d) => {
		err += d;
		const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
		if (m)
			resolve(m[1]);
	});
	browser.on('exit', (code) => reject(new Error(`chromium exited ${code}: ${err}`)));
});
const port = new URL(wsUrl).port;
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const page = targets.find((t) => t.type === 'page');
const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((r) => ws.addEventListener('open', r));
let nextId = 1;
const pending = new Map();
ws.addEventListener('message', (ev) => {
	const m = JSON.parse(ev.data);
	if (m.id && pending.has(m.id)) {
		pending.get(m.id)(m);
		pending.delete(m.id);
	}
});
const send = (method, params = {}) => new Promise((resolve, reject) => {
	const id = nextId++;
	pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) :
		resolve(m.result)));
	ws.send(JSON.stringify({ id, method, params }));
});
const evaluate = async (expr) => {
	const r = await send('Runtime.evaluate', { expression: expr, returnByValue: true,
		awaitPromise: true });
	if (r.exceptionDetails)
		throw new Error(`${expr}: ${r.exceptionDetails.text}`);
	return r.result.value;
};

await send('Page.enable');
await send('Runtime.enable');
await send('Page.navigate', { url: args.url + '/' });
for (let i = 0; !(await evaluate('document.readyState === "complete"')); i++) {
	if (i > 200)
		fail('the page did not load');
	await sleep(50);
}
if (await evaluate('document.title') !== 'tnpu chat')
	fail('not the chat page');
// The key goes in as a user would; then the model name appears.
await evaluate(`(() => { const k = document.getElementById("key"); k.value = ${
	JSON.stringify(args.key)}; k.dispatchEvent(new Event("change")); })()`);
await evaluate('document.getElementById("temp").value = "0"');
for (let i = 0; !(await evaluate('document.getElementById("model").textContent.includes("context")')); i++) {
	if (i > 200)
		fail('the model name did not appear: ' + await evaluate('document.getElementById("model").textContent'));
	await sleep(50);
}

await evaluate('document.getElementById("input").focus()');
await send('Input.insertText', { text: args.message });
for (const type of ['keyDown', 'keyUp'])
	await send('Input.dispatchKeyEvent', { type, key: 'Enter', code: 'Enter',
		windowsVirtualKeyCode: 13, text: type === 'keyDown' ? '\r' : undefined });

// The answer as it grows: distinct states until the closing line appears.
const states = new Set();
let done = false;
for (let i = 0; i < 3000 && !done; i++) {
	const s = await evaluate(`(() => { const m = document.querySelectorAll(".msg.assistant");
		const a = m[m.length - 1]; if (!a) return null;
		const meta = a.querySelector(".meta");
		return { text: meta ? a.firstChild.textContent : a.textContent,
			 meta: meta ? meta.textContent : null, error: a.classList.contains("error") }; })()`);
	if (s && s.error)
		fail('the page shows an error: ' + s.text);
	if (s && s.text)
		states.add(s.text);
	if (s && s.meta) {
		done = true;
		if (s.text !== want)
			fail(`the page shows ${JSON.stringify(s.text)}, the API ${JSON.stringify(want)}`);
		if (!/\d+ tokens, [\d.]+ tokens\/s/.test(s.meta))
			fail('no tokens/s: ' + s.meta);
		console.log(`page: the answer grew through ${states.size} states on screen, then "${s.meta}"`);
	}
	await sleep(5);
}
if (!done)
	fail('no answer ended on the page');
if (states.size < 3)
	fail(`the answer appeared in ${states.size} steps: not streamed`);
if (await evaluate('document.querySelector(".msg.user").textContent') !== args.message)
	fail('the typed message is not shown');
const shot = await send('Page.captureScreenshot', { format: 'png' });
fs.writeFileSync(args.screenshot, Buffer.from(shot.data, 'base64'));
console.log(`page: screenshot ${args.screenshot}`);
clearTimeout(timer);
ws.close();
browser.kill('SIGTERM');
process.exit(0);
