/**
 * Fault injection: the next `times` calls to an endpoint (its last path segment: `synccheck`, `webwxsync`,
 * `jslogin`, `login`, …) are delayed and/or answered with an HTTP status, a raw body, or the endpoint's own
 * failure answer carrying `ret` (BaseResponse.Ret, synccheck retcode, login window.code, <ret>).
 */
export interface FaultSpec {
  endpoint: string;
  status?: number;
  ret?: number;
  delayMs?: number;
  body?: string;
  times: number;
}

export class Faults {
  private readonly queue = new Map<string, FaultSpec[]>();

  add(f: FaultSpec): void {
    const list = this.queue.get(f.endpoint) ?? [];
    list.push({ ...f });
    this.queue.set(f.endpoint, list);
  }

  /** Consumes one use of the oldest fault for the endpoint. */
  take(endpoint: string): FaultSpec | null {
    const list = this.queue.get(endpoint);
    if (!list || list.length === 0) return null;
    const f = list[0]!;
    f.times--;
    if (f.times <= 0) list.shift();
    if (list.length === 0) this.queue.delete(endpoint);
    return f;
  }

  get empty(): boolean {
    return this.queue.size === 0;
  }

  pending(): FaultSpec[] {
    return [...this.queue.values()].flat();
  }

  clear(): void {
    this.queue.clear();
  }
}
