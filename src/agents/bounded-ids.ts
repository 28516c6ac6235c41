/**
 * Memory of upstream ids (responses cancelled, calls handled, items seen) for agents whose
 * upstream may send any number of them: only recent ids matter, so the oldest are forgotten
 * beyond a fixed count and a long or hostile session cannot grow them without bound.
 */
export const MAX_REMEMBERED_IDS = 64;

/** A set of ids that forgets its oldest beyond MAX_REMEMBERED_IDS. The empty id is never held. */
export class BoundedIdSet {
  private readonly items = new Set<string>();

  add(id: string): void {
    if (!id) return;
    this.items.add(id);
    if (this.items.size > MAX_REMEMBERED_IDS) this.items.delete(this.items.values().next().value as string);
  }

  has(id: string): boolean {
    return id !== '' && this.items.has(id);
  }
}

/** id → string, forgetting the oldest beyond MAX_REMEMBERED_IDS. The empty id is never held. */
export class BoundedIdMap {
  private readonly items = new Map<string, string>();

  set(id: string, value: string): void {
    if (!id) return;
    this.items.delete(id);
    this.items.set(id, value);
    if (this.items.size > MAX_REMEMBERED_IDS) this.items.delete(this.items.keys().next().value as string);
  }

  get(id: string): string | undefined {
    return id === '' ? undefined : this.items.get(id);
  }

  delete(id: string): void {
    this.items.delete(id);
  }
}
