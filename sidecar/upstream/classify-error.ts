import type { ReasonFlag } from '../http/reason.ts';

/** Maps what undici or the socket reported to a reason flag. `sent` says whether the request may have reached the app. */
export function classifyUpstreamError(error: unknown): ReasonFlag {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'UCT';
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EADDRNOTAVAIL':
      return 'UF';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'UT';
    case 'UND_ERR_RESPONSE_EXCEEDED_MAX_SIZE':
    case 'UND_ERR_HEADERS_OVERFLOW':
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_STATUS':
    case 'HPE_INVALID_VERSION':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return 'UPE';
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return 'DPE';
    default:
      // undici's HTTPParserError carries no code for some parser errors (an invalid status code, for one).
      if (code.startsWith('HPE_') || (error instanceof Error && error.name === 'HTTPParserError')) return 'UPE';
      return 'UC';
  }
}

/** Connect failures mean nothing reached the app: safe to retry any method. */
export function isConnectFailure(flag: ReasonFlag): boolean {
  return flag === 'UF' || flag === 'UCT';
}
