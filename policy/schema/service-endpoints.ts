import { z } from 'zod';
import { metadata } from './common.ts';

/** ServiceEndpoints (outrigger.dev/v1alpha1): static endpoints of a local Service; `metadata.name` is the Service's name. */

const hostPort = z
  .string()
  .max(300)
  // abort: without a HOST:PORT shape there is no port to range-check, and a second message would mislead.
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/, {
    error: 'must be HOST:PORT, e.g. "127.0.0.1:8080" or "[::1]:8080"',
    abort: true,
  })
  .refine((value) => {
    const p = Number(value.slice(value.lastIndexOf(':') + 1));
    return p >= 1 && p <= 65535;
  }, 'port must be 1–65535');

export const endpoint = z.strictObject({
  address: hostPort,
  weight: z.number().int().min(1).max(128).default(1),
  zone: z.string().max(63).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const serviceEndpoints = z.strictObject({
  apiVersion: z.literal('outrigger.dev/v1alpha1'),
  kind: z.literal('ServiceEndpoints'),
  metadata,
  spec: z.strictObject({ endpoints: z.array(endpoint).max(1024) }),
});

export type ServiceEndpoints = z.output<typeof serviceEndpoints>;
export type EndpointSpec = z.output<typeof endpoint>;
