/**
 * Autoscaling signals over gossip: sidecars report their workload's inbound traffic (rate, concurrency, latency,
 * errors over Knative's stable 60 s and panic 6 s windows) to every control-plane member, which sums them per
 * Service. One concern per file:
 *   signals-histogram.ts  fixed log-scale latency buckets: record, merge, percentile, sparse wire form
 *   signals-report.ts     the report, its strict codec and size bound
 *   signals-aggregate.ts  summing one Service's reports (pure)
 *   signals-reporter.ts   SignalReporter, on each sidecar
 *   signals-collector.ts  SignalCollector, on each control-plane replica
 */
export * from './signals-histogram.ts';
export * from './signals-report.ts';
export * from './signals-aggregate.ts';
export * from './signals-reporter.ts';
export * from './signals-collector.ts';
