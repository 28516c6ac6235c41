import { BoundedIdMap, BoundedIdSet } from '../bounded-ids.js';
import { checkedToolCall } from '../upstream-fields.js';

/**
 * The OpenAI Realtime agent's bookkeeping of function calls: a call is announced in pieces
 * (`response.output_item.added` names it, `…arguments.done` / `output_item.done` /
 * `response.done` complete it), so each call id is acted on once, with its name remembered from
 * the first piece; only declared tools count. Responses that called a tool get a follow-up
 * `response.create` when they finish.
 */
export class RealtimeToolCalls {
  private readonly handled = new BoundedIdSet();
  private readonly names = new BoundedIdMap();
  private readonly toolResponses = new BoundedIdSet();

  constructor(private readonly declared: ReadonlySet<string>) {}

  /** A function-call item was announced: remember its name. */
  noteName(callId: string, name: unknown): void {
    if (callId && typeof name === 'string' && this.declared.has(name)) this.names.set(callId, name);
  }

  /**
   * A complete call: the checked call to act on, once per call id; `undeclared` when the model
   * called something else (nothing for the widget), null when there is nothing to do.
   */
  complete(responseId: string, callId: string, rawName: unknown, rawArgs: unknown): { name: string; arguments: Record<string, unknown> } | 'undeclared' | null {
    if (!callId || this.handled.has(callId)) return null;
    const name = typeof rawName === 'string' && rawName ? rawName : this.names.get(callId);
    const call = checkedToolCall(name, rawArgs, this.declared);
    if (!call) return typeof name === 'string' && name ? 'undeclared' : null;
    this.handled.add(callId);
    this.names.delete(callId);
    if (responseId) this.toolResponses.add(responseId);
    return call;
  }

  /** The response called a tool (its follow-up continues the same turn). */
  calledTool(responseId: string): boolean {
    return this.toolResponses.has(responseId);
  }
}
