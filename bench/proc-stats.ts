/**
 * CPU time and peak RSS of processes, from /proc (Linux only).
 *
 * CPU: utime + stime (fields 14 and 15 of /proc/PID/stat, in clock ticks, all threads).
 * Peak RSS: VmHWM from /proc/PID/status. Writing "5" to /proc/PID/clear_refs resets it to the
 * current RSS, so the peak can be scoped to one measured run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface StatFields {
  ppid: number;
  ticks: number;
}

/** Parse /proc/PID/stat; the command name is in parentheses and may contain spaces. */
export function parseStat(text: string): StatFields | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After "pid (comm) ": field 3 (state) is index 0, so field n is index n - 3.
  const fields = text.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(ppid) || !Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { ppid, ticks: utime + stime };
}

function readStat(pid: number): StatFields | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The given PIDs plus all their live descendants (e.g. nginx master → worker). */
export function processTree(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat === undefined) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const seen = new Set<number>();
  const queue = [...roots];
  while (queue.length > 0) {
    const pid = queue.shift();
    if (pid === undefined || seen.has(pid)) continue;
    seen.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return [...seen];
}

/** Sum of utime + stime of the processes, in clock ticks (see `clockTicksPerSecond`). */
export function cpuTicks(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) total += readStat(pid)?.ticks ?? 0;
  return total;
}

/** Sum of VmHWM (peak resident set) over the processes, in KiB. */
export function peakRssKiB(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(match?.[1] ?? 0);
    } catch {
      // process gone
    }
  }
  return total;
}

/** Reset VmHWM to the current RSS; returns false if the kernel or permissions do not allow it. */
export function resetPeakRss(pids: readonly number[]): boolean {
  let ok = true;
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      ok = false;
    }
  }
  return ok;
}

/** Machine-wide CPU from the first line of /proc/stat, in clock ticks: user + nice + system (no idle, iowait, irq, steal). */
export function machineBusyTicks(): number {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
    return Number(fields[1] ?? 0) + Number(fields[2] ?? 0) + Number(fields[3] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU of this process plus its reaped children (wrk, once it has exited), in clock ticks. */
export function selfAndReapedChildrenTicks(): number {
  try {
    const text = readFileSync('/proc/self/stat', 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime 14, stime 15, cutime 16, cstime 17 → indexes 11..14
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  } catch {
    return 0;
  }
}
