import type { ReasonFlag } from '../../http/reason.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import { isConnectFailure } from '../../upstream/classify-error.ts';
import type { RetryConditions } from './policy.ts';

/** Why an attempt failed: its response status, or the flag of a failure without a response. */
export type RetryReason = number | ReasonFlag;

/** Methods RFC 9110 §9.2.2 calls idempotent: sending them twice has the effect of sending them once. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** An HTTP/2 stream the upstream refused (REFUSED_STREAM): undici reports it as a reset whose message names the code. */
export function isRefusedStream(flag: ReasonFlag, detail: string | undefined): boolean {
  return flag === 'UC' && detail !== undefined && detail.includes('REFUSED_STREAM');
}

/**
 * Whether the policy's conditions cover this failure. Failures the sidecar itself produced inside the retry layer
 * (no healthy endpoint `UH`, overflow `UO`, client gone `DC`, …) are never retried: retrying cannot help, and
 * Envoy does not retry overflow either.
 */
export function conditionsMatch(conditions: RetryConditions, reason: RetryReason, detail: string | undefined): boolean {
  if (typeof reason === 'number') return conditions.statuses.has(reason);
  if (isConnectFailure(reason)) return conditions.connectFailure;
  if (isRefusedStream(reason, detail)) return conditions.refusedStream;
  if (reason === 'UC' || reason === 'UPE') return conditions.reset;
  if (reason === 'UT') return conditions.timeout;
  return false;
}

/**
 * Whether sending the request again is safe. Idempotent methods, and requests carrying an `Idempotency-Key`
 * (draft-ietf-httpapi-idempotency-key-header), always are; any other method only when the failure proves the app
 * never saw the request: the connection never opened, or the stream was refused.
 */
export function replaySafe(ctx: RequestContext, reason: RetryReason, detail: string | undefined): boolean {
  if (IDEMPOTENT_METHODS.has(ctx.method) || ctx.upstreamHeaders['idempotency-key'] !== undefined) return true;
  return typeof reason === 'string' && (isConnectFailure(reason) || isRefusedStream(reason, detail));
}
