/** fastify 5 + @fastify/reply-from (its own undici pool, default options: 128 connections, keep-alive), logger off. */
import { parseArgs } from 'node:util';
import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';

const { values } = parseArgs({ options: { port: { type: 'string' }, upstream: { type: 'string' } } });

const app = Fastify({ logger: false, keepAliveTimeout: 75_000 });
await app.register(replyFrom, { base: `http://${values.upstream}` });
app.get('/*', (request, reply) => reply.from(request.url));
await app.listen({ port: Number(values.port), host: '127.0.0.1' });
