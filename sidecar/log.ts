export * from '../mesh/log.ts';
