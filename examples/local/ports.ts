import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { allPorts, type Layout } from './layout.ts';

export class BusyPortError extends Error {}

function probeTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function probeUdp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/** Throws a BusyPortError naming the first busy port, what the demo wanted it for and the flag that moves it. */
export async function assertPortsFree(layout: Layout, base: number): Promise<void> {
  for (const { port, what, udp } of allPorts(layout)) {
    const free = (await probeTcp(port)) && (!udp || (await probeUdp(port)));
    if (!free) {
      const other = base + 1000 > 65000 ? base - 1000 : base + 1000;
      throw new BusyPortError(`port ${port} (${what}) is already in use on 127.0.0.1. Stop what uses it, or move the whole demo with --base-port: npm start -- --base-port ${other}`);
    }
  }
}
