/**
 * `outrigger inject` on manifests: every workload's pod template in a multi-document YAML stream goes through the
 * same `injectPod` as the webhook, and its JSON Patch is applied to the YAML tree itself, so comments, key order and
 * flow style outside the added parts survive. Kinds without a pod template pass through untouched.
 */
import { isDeepStrictEqual } from 'node:util';
import { Composer, isMap, isScalar, isSeq, Parser, type CST, type Document } from 'yaml';
import type { InjectorConfig } from './config.ts';
import type { DecisionCode } from './decision.ts';
import { injectPod } from './inject-pod.ts';
import type { JsonPatchOperation } from './json-patch.ts';
import { isPodLike, isRecord } from './k8s-types.ts';

/** Where each workload kind keeps its pod template, by API group. */
export const POD_TEMPLATE_PATHS: Readonly<Record<string, { group: string; path: readonly string[] }>> = {
  Pod: { group: '', path: [] },
  Deployment: { group: 'apps', path: ['spec', 'template'] },
  StatefulSet: { group: 'apps', path: ['spec', 'template'] },
  DaemonSet: { group: 'apps', path: ['spec', 'template'] },
  ReplicaSet: { group: 'apps', path: ['spec', 'template'] },
  Job: { group: 'batch', path: ['spec', 'template'] },
  CronJob: { group: 'batch', path: ['spec', 'jobTemplate', 'spec', 'template'] },
};

export interface WorkloadReport {
  /** `Deployment/catalog`, or `Deployment/catalog.shop` with a namespace. */
  workload: string;
  /** 1-based line where the document starts. */
  line: number;
  injected: boolean;
  code: DecisionCode | 'no-pod-template';
  reason: string;
  notes: string[];
}

export type InjectStreamResult =
  | { ok: true; output: string; workloads: WorkloadReport[] }
  | { ok: false; line: number; column: number; message: string };

type Segment = string | number;

export function injectYamlStream(text: string, config: InjectorConfig): InjectStreamResult {
  const tokens = Array.from(new Parser().parse(text));
  const docs = Array.from(new Composer().compose(tokens));
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      const { line, column } = position(text, error.pos[0]);
      return { ok: false, line, column, message: error.message.split('\n')[0] ?? error.message };
    }
  }
  // Each document's own stretch of the source, so that a document left alone is copied byte for byte.
  const starts = documentStarts(tokens);
  if (starts.length !== docs.length) return { ok: false, line: 1, column: 1, message: 'cannot split the stream into documents' };
  const workloads: WorkloadReport[] = [];
  let output = '';
  docs.forEach((doc, index) => {
    const start = starts[index] ?? 0;
    const source = text.slice(start, starts[index + 1] ?? text.length);
    const report = injectDocument(doc, position(text, doc.range[0]).line, config);
    if (report) workloads.push(report);
    if (!report?.injected) {
      output += source;
      return;
    }
    const rendered = doc.toString({ lineWidth: 0 });
    if (output !== '' && !output.endsWith('\n')) output += '\n';
    output += index > 0 && !rendered.startsWith('---') ? `---\n${rendered}` : rendered;
  });
  return { ok: true, output, workloads };
}

/**
 * Where each document's source begins: the first one at 0, the others at their `document` token, or earlier at the
 * comments and directives just before it, which the composer gives to that document (`...` stays with the one before).
 */
function documentStarts(tokens: readonly CST.Token[]): number[] {
  const starts: number[] = [];
  tokens.forEach((token, index) => {
    if (token.type !== 'document') return;
    if (starts.length === 0) {
      starts.push(0);
      return;
    }
    let start = token.offset;
    for (let back = index - 1; back >= 0; back--) {
      const before = tokens[back];
      if (before === undefined || !['comment', 'newline', 'space', 'directive'].includes(before.type) || !('offset' in before)) break;
      start = before.offset;
    }
    starts.push(start);
  });
  return starts;
}

function injectDocument(doc: Document, line: number, config: InjectorConfig): WorkloadReport | undefined {
  const object: unknown = doc.toJS({ maxAliasCount: 1000 });
  if (!isRecord(object) || typeof object.kind !== 'string') return undefined;
  const where = POD_TEMPLATE_PATHS[object.kind];
  const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  if (where === undefined || group !== where.group) return undefined;
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : undefined;
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
  const workload = `${object.kind}/${name ?? '(unnamed)'}${namespace ? `.${namespace}` : ''}`;

  const template = where.path.reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), object);
  if (!isPodLike(template)) {
    return { workload, line, injected: false, code: 'no-pod-template', reason: `no pod template with containers at ${where.path.join('.') || 'the top level'}`, notes: [] };
  }
  const result = injectPod(template, { namespace, namespaceLabels: undefined, workloadName: name }, config);
  if (!result.injected) return { workload, line, injected: false, code: result.decision.code, reason: result.decision.reason, notes: result.notes };

  const notes = [...result.notes];
  try {
    for (const op of result.patch) applyToYaml(doc, [...where.path], op);
    if (!isDeepStrictEqual(where.path.reduce<unknown>((node, key) => (isRecord(node) ? node[key] : undefined), doc.toJS({ maxAliasCount: 1000 })), result.pod)) {
      throw new Error('the patched YAML differs from the injected pod');
    }
  } catch (error) {
    // Aliases or merge keys in the template: rewrite it whole, losing its comments, rather than emit something wrong.
    if (where.path.length === 0) doc.contents = doc.createNode(result.pod);
    else doc.setIn([...where.path], doc.createNode(result.pod));
    notes.push(`pod template rewritten whole, its comments dropped (${(error as Error).message})`);
  }
  return { workload, line, injected: true, code: 'injected', reason: result.decision.reason, notes };
}

/** Applies one add/replace operation to the YAML tree under `base`, creating nodes with the document's own settings. */
function applyToYaml(doc: Document, base: Segment[], op: JsonPatchOperation): void {
  if (op.op === 'remove') throw new Error('remove is never generated');
  const segments = op.path.split('/').slice(1).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const last = segments.pop();
  if (last === undefined) throw new Error('empty path');
  let node: unknown = doc.contents;
  const chain: unknown[] = [node];
  for (const segment of [...base, ...segments]) {
    if (isSeq(node)) node = node.items[Number(segment)];
    else if (isMap(node)) node = node.get(String(segment), true);
    else throw new Error(`cannot walk to ${op.path}`);
    chain.push(node);
  }
  if (op.op === 'add') {
    // Block content cannot sit inside a flow collection: the collections an addition goes into become block style
    // (their flow-style siblings stay as written), rather than the sidecar being written on one enormous line.
    for (const collection of chain) if (isMap(collection) || isSeq(collection)) collection.flow = false;
  }
  if (isSeq(node)) {
    if (last === '-') node.items.push(doc.createNode(op.value));
    else if (op.op === 'add') node.items.splice(Number(last), 0, doc.createNode(op.value));
    else node.items[Number(last)] = doc.createNode(op.value);
    return;
  }
  if (!isMap(node)) throw new Error(`cannot walk to ${op.path}`);
  const existing = node.get(last, true);
  if (op.op === 'replace' && isScalar(existing) && (typeof op.value === 'string' || typeof op.value === 'number' || typeof op.value === 'boolean')) {
    existing.value = op.value; // keeps the comment beside the value
  } else {
    node.set(doc.createNode(last), doc.createNode(op.value));
  }
}

/** 1-based line and column of a source offset. */
function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
