import { readFileSync } from 'node:fs';

const CAP_SYS_NICE = 23;

/**
 * This test process may set SCHED_RR on its threads (root or CAP_SYS_NICE in its effective set):
 * then REALTIME_PRIORITY must succeed, and the tests that need it run.
 */
export function maySetRealtime(): boolean {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return false;
  }
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_SYS_NICE))) !== 0n;
}
