/** Autoscaling signals of the local workload's inbound traffic, reported to the control plane by mesh/signals-reporter.ts. */
export { callerOf, createSignalRecorder, isSignalError, type SignalRecorder, type SignalRecorderOptions } from './signal-recorder.ts';
export { chainObservers } from './chain-observers.ts';
export { SignalRing } from './signal-ring.ts';
