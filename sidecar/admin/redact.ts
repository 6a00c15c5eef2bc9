/** Header names whose values are credentials. */
const SECRET_NAME = /authorization|cookie|token|secret|password|api[-_]?key/i;

/**
 * A deep copy with secrets replaced: passwords inside URLs, and values of header entries (`{name, value}`)
 * whose name looks like a credential. `/config_dump` output is safe to paste into an issue.
 */
export function redactSecrets(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/(\w+:\/\/[^:/@\s]*:)[^@/\s]+@/g, '$1[redacted]@');
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(record)) out[key] = redactSecrets(inner);
  if (typeof record.name === 'string' && 'value' in record && SECRET_NAME.test(record.name)) out.value = '[redacted]';
  return out;
}
