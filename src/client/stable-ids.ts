/**
 * Keeps `stable_id` stable. The model computes a key from what survives a QR login (remark name, nickname + alias,
 * group topic + members); within a session an object keeps the key it was first given even when those attributes
 * change, and every such change is remembered as an alias (new key → first key). The aliases are persisted with the
 * session, so after a new QR login (new wire ids) a renamed contact maps back to the same stable_id. Best effort:
 * two contacts that look identical cannot be told apart.
 */
const MAX_ALIASES = 20_000;

export interface StableIdsState {
  version: 1;
  /** computed key → stable id, oldest first. */
  aliases: [string, string][];
}

export class StableIds {
  #aliases = new Map<string, string>();
  #byWire = new Map<string, string>();
  /** Group members, per group id then member id (no `group/member` key strings: 100,000 members). */
  #byMember = new Map<string, Map<string, string>>();
  #version = 0;

  /** Bumped whenever the persisted part (the aliases) changes: the owner saves it only then. */
  get version(): number {
    return this.#version;
  }

  /** The stable id of `wireId`, given the key the model computed for it now. */
  resolve(wireId: string, computed: string): string {
    return this.#resolveIn(this.#byWire, wireId, computed);
  }

  /** The same for a group member: its stable id within that group. */
  resolveMember(groupId: string, memberId: string, computed: string): string {
    let inGroup = this.#byMember.get(groupId);
    if (!inGroup) this.#byMember.set(groupId, (inGroup = new Map()));
    return this.#resolveIn(inGroup, memberId, computed);
  }

  #resolveIn(byWire: Map<string, string>, wireId: string, computed: string): string {
    const known = byWire.get(wireId);
    if (known !== undefined) {
      if (computed && computed !== known && this.#aliases.get(computed) !== known) this.#alias(computed, known);
      return known;
    }
    const stable = this.#aliases.get(computed) ?? computed;
    byWire.set(wireId, stable);
    return stable;
  }

  /** Gives `wireId` this stable id (e.g. a de-duplicated `key-2`). */
  assign(wireId: string, stable: string): void {
    this.#byWire.set(wireId, stable);
  }

  #alias(computed: string, stable: string): void {
    this.#aliases.delete(computed);
    this.#aliases.set(computed, stable);
    this.#version++;
    if (this.#aliases.size > MAX_ALIASES) this.#aliases.delete(this.#aliases.keys().next().value!);
  }

  /** Forgets the wire ids (a new QR login changes them all); aliases stay. */
  resetSession(): void {
    this.#byWire.clear();
    this.#byMember.clear();
  }

  export(): StableIdsState {
    return { version: 1, aliases: [...this.#aliases] };
  }

  import(state: unknown): void {
    const s = state as Partial<StableIdsState> | null;
    if (!s || s.version !== 1 || !Array.isArray(s.aliases)) return;
    this.#aliases = new Map(s.aliases.filter((p) => Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string'));
    this.#version++;
  }
}
