/**
 * Atomic admission in Redis: the GCRA step of token-bucket.ts (`gcraStep`), run as one Lua script so that every
 * sidecar sharing the key sees one sequence of decisions, however many ask at once. Redis's own clock (`TIME`)
 * is the only clock involved, so sidecars' clock skew does not matter. Integer microseconds throughout: exact in
 * Lua's doubles (now ≈ 1.8e15 < 2^53, and the schema bounds burst · interval).
 *
 * KEYS[1]: the bucket. ARGV[1]: burst (capacity). ARGV[2]: emission interval in µs.
 * Returns {allowed 0|1, remaining, retry-after ms, reset ms}. The key expires when the bucket is full again.
 */
export const GCRA_LUA = `
local burst = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tolerance = burst * interval
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local nextTat = tat + interval
local excess = nextTat - now - tolerance
if excess > 0 then
  return {0, 0, math.ceil(excess / 1000), math.ceil((tat - now) / 1000)}
end
redis.call('SET', KEYS[1], string.format('%d', nextTat), 'PX', math.ceil((nextTat - now) / 1000))
return {1, math.floor((tolerance - (nextTat - now)) / interval), 0, math.ceil((nextTat - now) / 1000)}
`;

export type GcraReply = [allowed: number, remaining: number, retryAfterMs: number, resetMs: number];
