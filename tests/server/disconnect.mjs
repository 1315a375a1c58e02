// SPDX-License-Identifier: GPL-2.0 OR MIT
// A client that asks for a long streamed answer and hangs up after the
// first piece of text; prints how many events it had.
//
// Usage: node disconnect.mjs URL BODY
import http from 'node:http';

const [url, body] = process.argv.slice(2);
const req = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' } },
	(res) => {
		let events = 0;
		res.on('data', (d) => {
			events += (d.toString().match(/^data: /gm) || []).length;
			// The role chunk, then text: gone.
			if (events >= 2) {
				console.log(`disconnect: status ${res.statusCode}, hung up after ${events} events`);
				req.destroy();
				process.exit(0);
			}
		});
		res.on('end', () => {
			console.log(`disconnect: the stream ended (${events} events) before the hang-up`);
			process.exit(1);
		});
	});
req.on('error', (e) => {
	console.log(`disconnect: ${e.message}`);
	process.exit(1);
});
req.end(body);
