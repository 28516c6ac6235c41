import type { PrometheusText } from './prometheus.js';
import type { ReadyState } from '../server/readiness.js';

/**
 * What a balancer, an autoscaler and a dashboard read about the instance as a whole: readiness,
 * the sessions MAX_SESSIONS counts (every dialect), and utilisation figures that follow the load
 * (windowed, not since start). docs/deploy.md says which one to scale on.
 */
export function addFleetMetrics(p: PrometheusText, r: ReadyState): PrometheusText {
  const cpu = process.cpuUsage();
  return p
    .gauge('avatar_ready', '1 while /ready answers 200 (takes new sessions), else 0', r.ready ? 1 : 0)
    .gauge('avatar_draining', '1 from SIGTERM/SIGINT until exit', r.status === 'draining' ? 1 : 0)
    .gauge('avatar_open_sessions', 'Open sessions of every dialect (what MAX_SESSIONS counts)', r.sessions)
    .gauge('avatar_max_sessions', 'MAX_SESSIONS', r.maxSessions)
    .gauge('avatar_session_utilisation', 'Open sessions / MAX_SESSIONS (0..1)', r.maxSessions > 0 ? r.sessions / r.maxSessions : 0)
    .gauge('avatar_inference_pool_busy_ratio', 'Inference pool busy fraction over the last 5 s: window task time / (5 s x workers)', r.utilisation)
    .counter('process_cpu_seconds_total', 'User and system CPU time of the process (all threads), seconds', (cpu.user + cpu.system) / 1e6);
}
