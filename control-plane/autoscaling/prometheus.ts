import { Counter, Gauge, type Registry } from 'prom-client';
import type { ServiceSignals } from '../../mesh/signals-aggregate.ts';
import type { CollectorStats, SignalSource } from '../../mesh/signals-collector.ts';
import { WINDOW_NAMES } from '../../mesh/signals-report.ts';
import type { AutoscalingSignal } from '../../policy/schema/autoscaling-signal.ts';
import { recommend } from './recommendations.ts';
import { SIGNAL_METRICS } from './signal-metrics.ts';

export interface AutoscalingMetricsOptions {
  source: SignalSource;
  policies: () => readonly AutoscalingSignal[];
  /** The collector's counters, exported as `outrigger_autoscaling_reports_total{outcome}`. */
  stats?: () => CollectorStats;
}

/**
 * Adds the autoscaling signals to a prom-client registry, read at scrape time:
 *   outrigger_autoscaling_{requests_per_second,concurrency,latency_p50_ms,latency_p90_ms,latency_p99_ms,error_ratio}{service,window}
 *   outrigger_autoscaling_replicas{service}              members reporting for the Service
 *   outrigger_autoscaling_recommended_replicas{service}  the HPA formula's choice, per AutoscalingSignal
 * `service` is `name.namespace`; `window` is `stable` (60 s) or `panic` (6 s).
 */
export function registerAutoscalingMetrics(registry: Registry, options: AutoscalingMetricsOptions): void {
  // One aggregation per scrape, shared by every gauge below (each collect() would otherwise redo it).
  let cached: { at: number; rows: ServiceSignals[] } | undefined;
  const rows = (): ServiceSignals[] => {
    const now = Date.now();
    if (!cached || now - cached.at > 250) {
      const all: ServiceSignals[] = [];
      for (const service of options.source.services()) {
        for (const window of WINDOW_NAMES) {
          const signals = options.source.aggregate(service, window);
          if (signals) all.push(signals);
        }
      }
      cached = { at: now, rows: all };
    }
    return cached.rows;
  };
  for (const metric of SIGNAL_METRICS) {
    new Gauge({
      name: `outrigger_autoscaling_${metric.external.replace(/^outrigger_/, '')}`,
      help: metric.help,
      labelNames: ['service', 'window'],
      registers: [registry],
      collect() {
        this.reset();
        for (const signals of rows()) this.set({ service: signals.service, window: signals.window }, metric.value(signals));
      },
    });
  }
  new Gauge({
    name: 'outrigger_autoscaling_replicas',
    help: 'Sidecars reporting signals for the Service (the replicas the mesh sees).',
    labelNames: ['service'],
    registers: [registry],
    collect() {
      this.reset();
      for (const signals of rows()) if (signals.window === 'stable') this.set({ service: signals.service }, signals.replicas);
    },
  });
  new Gauge({
    name: 'outrigger_autoscaling_recommended_replicas',
    help: "Replicas the HPA formula (ceil(current × value / target), tolerance) would choose, per AutoscalingSignal; absent while no sidecar reports.",
    labelNames: ['service'],
    registers: [registry],
    collect() {
      this.reset();
      for (const policy of options.policies()) {
        const recommendation = recommend(policy, options.source);
        if (recommendation.recommendedReplicas !== null) this.set({ service: recommendation.service }, recommendation.recommendedReplicas);
      }
    },
  });
  const stats = options.stats;
  if (stats) {
    new Counter({
      name: 'outrigger_autoscaling_reports_total',
      help: 'Signal reports from sidecars: accepted, rejected (malformed or from an unexpected member), out_of_order, expired.',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        this.reset();
        const s = stats();
        this.inc({ outcome: 'accepted' }, s.accepted);
        this.inc({ outcome: 'rejected' }, s.rejected);
        this.inc({ outcome: 'out_of_order' }, s.outOfOrder);
        this.inc({ outcome: 'expired' }, s.expired);
      },
    });
  }
}
