import type { ReasonFlag } from '../../http/reason.ts';
import type { Outcome } from '../../pipeline/context.ts';

/**
 * How the circuit breaker and outlier detection judge one outcome. One table for both, so `/clusters`, the breaker
 * and the ejections never disagree about what "failed" means.
 *
 * | outcome                                     | upstream failure | gateway error |
 * |---------------------------------------------|------------------|---------------|
 * | flag UF, UCT, UT, UC, UPE (any status)      | yes              | yes           |
 * | no flag, status 502, 503, 504               | yes              | yes           |
 * | no flag, other status >= 500                | yes              | no            |
 * | flag UH (no endpoint left, 503)             | yes              | no            |
 * | flag DC, UO, CO, DPE (any status)           | no               | no            |
 * | status < 500 without a failure flag         | no               | no            |
 * | any other flag: judged by its status        | as above         | as above      |
 *
 * DC (client gone), DPE (client sent a bad body) are the client's doing; UO and CO are this sidecar refusing
 * to send: none of them says anything about the upstream. UPE is a gateway error here although Envoy's gateway
 * list omits protocol errors: the client sees 502 for it, and a user reading "consecutive gateway errors" expects
 * every 502 to count.
 */
const UPSTREAM_FAILURE_FLAGS: ReadonlySet<ReasonFlag> = new Set<ReasonFlag>(['UF', 'UCT', 'UT', 'UC', 'UPE']);
const NEUTRAL_FLAGS: ReadonlySet<ReasonFlag> = new Set<ReasonFlag>(['DC', 'SI', 'UO', 'CO', 'DPE']);

/** Whether the outcome counts against the upstream (breaker failures, consecutive 5xx). */
export function isUpstreamFailure(outcome: Outcome): boolean {
  const flag = outcome.flag;
  if (flag !== undefined) {
    if (UPSTREAM_FAILURE_FLAGS.has(flag)) return true;
    if (NEUTRAL_FLAGS.has(flag)) return false;
  }
  return outcome.status >= 500;
}

/** Whether the outcome is a gateway error in Envoy's sense: 502, 503, 504 or a connect failure, reset or timeout. */
export function isGatewayError(outcome: Outcome): boolean {
  const flag = outcome.flag;
  if (flag !== undefined) {
    if (UPSTREAM_FAILURE_FLAGS.has(flag)) return true;
    if (NEUTRAL_FLAGS.has(flag) || flag === 'UH') return false;
  }
  const status = outcome.status;
  return status === 502 || status === 503 || status === 504;
}
