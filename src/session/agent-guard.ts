import type { Agent, AgentEvents } from '../agents/agent.js';

/**
 * Last resort at the session/agent boundary: a listener that throws on what an agent emitted (a
 * bug meeting odd data) is reported to `onFault` instead of unwinding into the agent's socket
 * handler and from there out of the process; the agent's own code after its `emit` keeps
 * running. Wrapping `emit` on this one agent covers every listener without touching them.
 */
export function guardAgentEvents(agent: Agent, onFault: (where: string, err: unknown) => void): void {
  const emit = agent.emit.bind(agent) as (event: keyof AgentEvents, ...args: unknown[]) => boolean;
  agent.emit = ((event: keyof AgentEvents, ...args: unknown[]) => {
    try {
      return emit(event, ...args);
    } catch (err) {
      onFault(`${event} event`, err);
      return true;
    }
  }) as Agent['emit'];
}
