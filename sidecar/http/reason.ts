/**
 * Why a request failed, retried or was answered by the sidecar itself: one short flag per cause, as Envoy's
 * response flags, so the access log, the span, the metrics and (when asked) a response header all say the same thing.
 */
export const REASONS = {
  NR: { status: 404, text: 'no route: no Service matches the request' },
  UH: { status: 503, text: 'no healthy upstream endpoint' },
  UF: { status: 502, text: 'upstream connection failure' },
  UCT: { status: 504, text: 'upstream connect timeout' },
  UT: { status: 504, text: 'upstream request timeout' },
  UC: { status: 502, text: 'upstream connection terminated' },
  UPE: { status: 502, text: 'upstream protocol error' },
  UO: { status: 503, text: 'upstream overflow' },
  CO: { status: 503, text: 'circuit open' },
  URX: { status: 503, text: 'retry limit exceeded' },
  RL: { status: 429, text: 'rate limited' },
  FI: { status: 503, text: 'fault injected' },
  DI: { status: 200, text: 'delay injected' },
  DC: { status: 499, text: 'downstream connection terminated' },
  DPE: { status: 400, text: 'downstream protocol error' },
  SI: { status: 408, text: 'stream idle timeout: no bytes moved either way for too long' },
  NB: { status: 500, text: 'route has no usable backend' },
  OM: { status: 503, text: 'sidecar overloaded: request shed' },
} as const;

export type ReasonFlag = keyof typeof REASONS;

export const REASON_HEADER = 'x-outrigger-reason';
export const DEBUG_REQUEST_HEADER = 'x-outrigger-debug';
