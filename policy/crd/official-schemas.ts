/**
 * Validation of Kubernetes objects against the official schemas, offline, for tests:
 *
 * - `validateOfficial`: the JSON Schema validators that `kubernetes-models` compiles from the Kubernetes OpenAPI
 *   spec (and, for cert-manager, KEDA and the Gateway API, from those projects' CRDs): types, enums, required fields,
 *   formats and patterns. Like the OpenAPI spec, they accept unknown fields.
 * - `unknownFieldProblems`: unknown fields, as the API server's strict field validation (kubectl's default) refuses
 *   them, through TypeScript's excess-property check against the same packages' generated types.
 *
 * Test-only: its packages are devDependencies, and nothing at run time imports this file.
 */
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './examples.ts';

/** Where each API group's models live; the core group and the built-in groups are in `kubernetes-models`. */
const PACKAGES: readonly { readonly group: RegExp; readonly module: string }[] = [
  { group: /^(cert-manager\.io|acme\.cert-manager\.io)$/, module: '@kubernetes-models/cert-manager' },
  { group: /^(keda\.sh|eventing\.keda\.sh)$/, module: '@kubernetes-models/keda' },
  { group: /^gateway\.networking\.k8s\.io$/, module: '@kubernetes-models/gateway-api' },
  { group: /^([a-z0-9-]+\.)*k8s\.io$|^(apps|batch|autoscaling|policy)$|^$/, module: 'kubernetes-models' },
];

/** The module specifier of a kind's model, or undefined when no installed package describes the group. */
export function modelModule(apiVersion: string, kind: string): string | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  if (!/^[A-Za-z0-9]+$/.test(kind) || !/^v[0-9a-z]+$/.test(version)) return undefined;
  const pkg = PACKAGES.find((p) => p.group.test(group));
  if (!pkg) return undefined;
  return group === '' ? `${pkg.module}/${version}/${kind}` : `${pkg.module}/${group}/${version}/${kind}`;
}

export type OfficialResult = { readonly validated: true; readonly problems: string[] } | { readonly validated: false; readonly reason: string };

interface Model {
  validate(): void;
}

/** Validates one object against its kind's official schema, if an installed package has one. */
export async function validateOfficial(doc: { apiVersion: string; kind: string }): Promise<OfficialResult> {
  const specifier = modelModule(doc.apiVersion, doc.kind);
  if (!specifier) return { validated: false, reason: `no installed schema package covers ${doc.apiVersion}` };
  let exports: Record<string, unknown>;
  try {
    exports = (await import(specifier)) as Record<string, unknown>;
  } catch {
    return { validated: false, reason: `no schema for ${doc.apiVersion} ${doc.kind} in ${specifier.split('/')[0] ?? specifier}` };
  }
  const ModelClass = exports[doc.kind] as (new (data: unknown) => Model) | undefined;
  if (typeof ModelClass !== 'function') return { validated: false, reason: `${specifier} has no model ${doc.kind}` };
  try {
    new ModelClass(doc).validate();
    return { validated: true, problems: [] };
  } catch (error) {
    const errors = (error as { errors?: { instancePath?: string; message?: string; params?: unknown }[] }).errors;
    const problems = errors
      ? errors.map((e) => `${e.instancePath === '' || e.instancePath === undefined ? '(root)' : e.instancePath}: ${e.message ?? ''} ${JSON.stringify(e.params ?? {})}`)
      : [String(error)];
    return { validated: true, problems };
  }
}

export interface TypedDocument {
  readonly where: string;
  readonly doc: { apiVersion: string; kind: string };
}

/**
 * Unknown fields (and wrong shapes) in each document, by type-checking it as an object literal of its kind's
 * generated interface (`I<Kind>`): one program for all documents, a few seconds. Documents without a model are
 * skipped. Returns `where: message` lines.
 */
export function unknownFieldProblems(documents: readonly TypedDocument[]): string[] {
  const lines: string[] = [];
  const owners: { start: number; where: string }[] = [];
  documents.forEach(({ doc }, i) => {
    const specifier = modelModule(doc.apiVersion, doc.kind);
    if (!specifier) return;
    lines.push(`import type { I${doc.kind} as T${i} } from ${JSON.stringify(specifier)};`);
  });
  let text = `${lines.join('\n')}\n`;
  documents.forEach(({ where, doc }, i) => {
    if (!modelModule(doc.apiVersion, doc.kind)) return;
    owners.push({ start: text.length, where });
    text += `export const d${i}: T${i} = ${JSON.stringify(doc, null, 1)};\n`;
  });

  const file = join(REPO_ROOT, 'test', '__manifest_types__.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) =>
    name === file ? ts.createSourceFile(name, text, languageVersion, true) : getSourceFile(name, languageVersion, onError, shouldCreate);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === file ? text : readFile(name));
  host.getCurrentDirectory = () => dirname(file);
  const program = ts.createProgram([file], options, host);
  const source = program.getSourceFile(file);
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  return diagnostics.map((d) => {
    const start = d.start ?? 0;
    const owner = [...owners].reverse().find((o) => o.start <= start);
    const message = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    return `${owner?.where ?? '(imports)'}: ${message}`;
  });
}
