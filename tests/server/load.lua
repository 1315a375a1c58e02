-- SPDX-License-Identifier: GPL-2.0 OR MIT
-- wrk script of the server suite's load test: every connection posts the
-- same greedy chat request; each answer must be the single client's answer
-- (but for its id, time and cached tokens). Prints the counts, p50/p99 latency and the
-- aggregate tokens/s.
--
-- Usage: wrk -s load.lua URL -- BODY.json EXPECTED.json
local threads = {}

local function read(path)
	local f = assert(io.open(path, "rb"))
	local s = f:read("*a")
	f:close()
	return s
end

-- The answer without what differs between requests (the prompt tokens
-- taken over from the cache depend on what ran before).
local function normal(s)
	return (s:gsub('"id":"[^"]*"', ''):gsub('"created":%d+', ''):gsub('"cached_tokens":%d+', ''))
end

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	body = read(args[1])
	want = normal(read(args[2]))
	answers, same, tokens = 0, 0, 0
end

function request()
	return wrk.format("POST", "/v1/chat/completions", { ["Content-Type"] = "application/json" },
			  body)
end

function response(status, headers, resp)
	if status ~= 200 then
		return
	end
	answers = answers + 1
	if normal(resp) == want then
		same = same + 1
	end
	tokens = tokens + tonumber(resp:match('"completion_tokens":(%d+)') or 0)
end

function done(summary, latency, requests)
	local answers, same, tokens = 0, 0, 0
	for _, t in ipairs(threads) do
		answers = answers + t:get("answers")
		same = same + t:get("same")
		tokens = tokens + t:get("tokens")
	end
	local e = summary.errors
	local seconds = summary.duration / 1e6
	io.write(string.format("load: %d requests in %.1f s, %d answers of 200, %d identical to " ..
		"the single client's; errors: connect %d, read %d, write %d, status %d, " ..
		"timeout %d\n", summary.requests, seconds, answers, same, e.connect, e.read,
		e.write, e.status, e.timeout))
	io.write(string.format("load: latency p50 %.1f ms, p99 %.1f ms; %.0f tokens/s " ..
		"aggregate (%d tokens)\n", latency:percentile(50) / 1000,
		latency:percentile(99) / 1000, tokens / seconds, tokens))
end
