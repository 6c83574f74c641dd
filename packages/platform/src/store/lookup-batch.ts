/**
 * Lookups by key gathered into one query. A burst of first readings (a ward reconnecting after an outage or a
 * restart, a fleet provisioned at once) asks for thousands of patients' or devices' state within
 * milliseconds; one query per key made the embedded database's single thread the bottleneck for seconds.
 * Keys asked for in the same event-loop turn go out together, in chunks of at most `maxKeys`.
 */
export class LookupBatch<K, V> {
  private waiting = new Map<K, { resolve: (v: V | undefined) => void; reject: (e: unknown) => void }[]>();
  private scheduled = false;

  constructor(
    /** Finds the values of the given keys (unique, at most maxKeys); a key it does not return has none. */
    private readonly findMany: (keys: K[]) => Promise<ReadonlyMap<K, V>>,
    private readonly maxKeys = 500,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const callers = this.waiting.get(key);
      if (callers) callers.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const waiting = this.waiting;
    this.waiting = new Map();
    const keys = [...waiting.keys()];
    for (let i = 0; i < keys.length; i += this.maxKeys) {
      const chunk = keys.slice(i, i + this.maxKeys);
      this.findMany(chunk).then(
        (found) => {
          for (const k of chunk) for (const c of waiting.get(k) ?? []) c.resolve(found.get(k));
        },
        (e: unknown) => {
          for (const k of chunk) for (const c of waiting.get(k) ?? []) c.reject(e);
        },
      );
    }
  }
}
