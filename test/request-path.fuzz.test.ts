import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { loadHttpCorpus } from './support/http-fuzz/corpus.ts';
import { hostileCase } from './support/http-fuzz/hostile-mutations.ts';
import type { Outcome } from './support/http-fuzz/judge.ts';
import { startRecordingUpstream } from './support/http-fuzz/recording-upstream.ts';
import { validCase } from './support/http-fuzz/request-draft.ts';
import { describeFailure, runCase, type HttpCase, type Rig } from './support/http-fuzz/run-case.ts';
import { endpointsYaml, startSidecarProcess, writeConfig } from './support/sidecar-process.ts';

/**
 * Property tests of the request path against a real sidecar process and a raw TCP upstream that records exact bytes.
 * Random request lines, field sets (valid and hostile), bodies (Content-Length or chunked, sometimes wrongly framed)
 * and random splits into writes, on the inbound and outbound listeners. Every case must end as either a faithful
 * forward or a clean refusal (support/http-fuzz/judge.ts has the exact property, reference-parser.ts the oracle),
 * and the sidecar must still forward a normal request afterwards. The seed corpus (fuzz-corpus/http) is replayed
 * first; the seed is fixed, so a run is reproducible. A failure prints the case as a ready-to-save corpus file.
 */

const SEED = 0x5eed_2026;
const VALID_RUNS = 150;
const HOSTILE_RUNS = 350;
const CORPUS = join(import.meta.dirname, 'fuzz-corpus', 'http');
/** Bounds a property's wall time, shrinking included; a failure found before the limit is still reported. */
const TIME_LIMIT = fc.interruptAfterTimeLimit(25_000);

describe('request path fuzzing: a faithful forward or a clean refusal', () => {
  let rig: Rig;

  before(async () => {
    const upstream = await startRecordingUpstream();
    const config = writeConfig({ 'endpoints.yaml': endpointsYaml('raw', [upstream.address]) });
    rig = { upstream, sidecar: await startSidecarProcess({ service: 'app', app: upstream.address, config }) };
  });

  after(async () => {
    await rig?.sidecar.stop();
    await rig?.upstream.close();
  });

  /** Runs a case and asserts the property. */
  async function check(fuzzCase: HttpCase): Promise<Outcome> {
    const result = await runCase(rig, fuzzCase);
    assert.deepEqual(result.problems, [], describeFailure(fuzzCase, result));
    return result.outcome;
  }

  describe('seed corpus', () => {
    for (const entry of loadHttpCorpus(CORPUS)) {
      for (const listener of entry.listeners) {
        test(`${entry.name} (${listener}): ${entry.description}`, entry.todo ? { todo: entry.todo } : {}, async () => {
          const outcome = await check({ listener, parts: entry.parts });
          if (entry.expect === 'forward') assert.equal(outcome, 'forwarded');
          if (entry.expect === 'refuse') assert.equal(outcome, 'refused');
        });
      }
    }
  });

  test(`${VALID_RUNS} generated valid requests are all forwarded intact`, async (t) => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(validCase(), async (fuzzCase) => {
        runs++;
        assert.equal(await check(fuzzCase), 'forwarded', 'a valid request was not forwarded');
      }),
      { seed: SEED, numRuns: VALID_RUNS, plugins: [TIME_LIMIT] },
    );
    t.diagnostic(`cases run: ${runs}`);
    assert.ok(runs >= VALID_RUNS, `only ${runs} of ${VALID_RUNS} cases ran before the time limit`);
  });

  test(`${HOSTILE_RUNS} generated hostile requests are forwarded intact or refused cleanly`, async (t) => {
    const outcomes: Record<Outcome, number> = { forwarded: 0, refused: 0, mixed: 0, unanswered: 0 };
    await fc.assert(
      fc.asyncProperty(hostileCase(), async (fuzzCase) => {
        outcomes[await check(fuzzCase)]++;
      }),
      { seed: SEED, numRuns: HOSTILE_RUNS, plugins: [TIME_LIMIT] },
    );
    const runs = Object.values(outcomes).reduce((sum, n) => sum + n, 0);
    t.diagnostic(`outcomes: ${JSON.stringify(outcomes)}`);
    assert.ok(runs >= HOSTILE_RUNS, `only ${runs} of ${HOSTILE_RUNS} cases ran before the time limit`);
    // The mutations must reach both sides of the property, or the generator has gone blind.
    assert.ok(outcomes.forwarded > HOSTILE_RUNS / 20, `few hostile cases were forwarded: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.refused > HOSTILE_RUNS / 3, `few hostile cases were refused: ${JSON.stringify(outcomes)}`);
  });
});
