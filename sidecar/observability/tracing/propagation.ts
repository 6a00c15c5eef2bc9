import type { IncomingHttpHeaders } from 'node:http';
import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter, type Context, type TextMapPropagator } from '@opentelemetry/api';
import { W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { B3InjectEncoding, B3Propagator } from '@opentelemetry/propagator-b3';
import { JaegerPropagator } from '@opentelemetry/propagator-jaeger';
import type { PropagationFormat } from './settings.ts';

/** Reads trace context from request headers and writes it into the headers that go upstream, in the configured formats. */
export interface HeaderPropagation {
  extract(headers: IncomingHttpHeaders): Context;
  /** Removes every trace header of the configured formats, then writes this context's in each of them. */
  inject(context: Context, headers: IncomingHttpHeaders): void;
}

export function headerPropagation(formats: readonly PropagationFormat[]): HeaderPropagation {
  const has = (f: PropagationFormat): boolean => formats.includes(f);
  // Extraction runs in order and a later format that finds a span context replaces an earlier one, so the
  // W3C header, when present, wins over B3 and Jaeger.
  const extractors: TextMapPropagator[] = [];
  if (has('jaeger')) extractors.push(new JaegerPropagator());
  if (has('b3') || has('b3multi')) extractors.push(new B3Propagator()); // reads single and multi alike
  if (has('tracecontext')) extractors.push(new W3CTraceContextPropagator());
  if (has('baggage')) extractors.push(new W3CBaggagePropagator());

  const injectors: TextMapPropagator[] = [];
  if (has('tracecontext')) injectors.push(new W3CTraceContextPropagator());
  if (has('baggage')) injectors.push(new W3CBaggagePropagator());
  if (has('b3')) injectors.push(new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }));
  if (has('b3multi')) injectors.push(new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER }));
  if (has('jaeger')) injectors.push(new JaegerPropagator());

  // What was read is replaced: a stale b3 next to a fresh traceparent would give the next hop two parents.
  const cleared = new Set<string>();
  for (const p of injectors) for (const field of p.fields()) cleared.add(field.toLowerCase());
  if (has('b3') || has('b3multi')) {
    for (const p of [new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }), new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER })]) {
      for (const field of p.fields()) cleared.add(field.toLowerCase());
    }
  }
  const clearedFields = [...cleared];

  return {
    extract(headers) {
      let context = ROOT_CONTEXT;
      for (const p of extractors) context = p.extract(context, headers, defaultTextMapGetter);
      return context;
    },
    inject(context, headers) {
      for (const field of clearedFields) delete headers[field];
      for (const p of injectors) p.inject(context, headers, defaultTextMapSetter);
    },
  };
}
