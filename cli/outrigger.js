#!/usr/bin/env -S node --max-semi-space-size=16 --max-old-space-size=512
// Plain JavaScript on purpose: Node strips a TypeScript entry's types before its first line runs, which loads the
// stripper (~150 ms) on every start. Here the compile cache is on before any TypeScript loads, and cached modules
// skip stripping and compiling altogether.
import { enableCompileCache } from 'node:module';
import process from 'node:process';

enableCompileCache();
const { run } = await import('./main.ts');
process.exitCode = await run(process.argv.slice(2));
