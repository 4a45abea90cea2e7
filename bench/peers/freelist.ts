// The plain-JS peer: a freelist over an Int32Array that keeps the same books
// as mbufpool's get/free (type census, allocation/free counters, free count,
// denied count, handle range check, double-free check), with no header and
// no memory behind the handles. What a careful JS programmer would write.

export class JsFreelist {
  private readonly next: Int32Array;
  private readonly types: Uint8Array;
  /** mbufs in use by type. */
  readonly census = new Int32Array(16);
  private head = 1;
  free: number;
  allocs = 0;
  frees = 0;
  denied = 0;

  /** `n` items, handles 1..n (0 is NULL). */
  constructor(readonly n: number) {
    this.next = new Int32Array(n + 1);
    this.types = new Uint8Array(n + 1);
    for (let i = 1; i < n; i++) this.next[i] = i + 1;
    this.free = n;
  }

  /** An item typed `type` (1..15), or 0 if none is free (counted). */
  get(type: number): number {
    if (((type - 1) >>> 0) >= 15) throw new RangeError(`bad type ${type}`);
    const m = this.head;
    if (m === 0) {
      this.denied++;
      return 0;
    }
    this.head = this.next[m];
    this.types[m] = type;
    this.census[type]++;
    this.allocs++;
    this.free--;
    return m;
  }

  /** Frees `m`; throws on a bad handle or a double free. */
  put(m: number): void {
    if (!(m > 0 && m <= this.n)) throw new RangeError(`bad handle ${m}`);
    const t = this.types[m];
    if (t === 0) throw new Error(`double free of ${m}`);
    this.census[t]--;
    this.types[m] = 0;
    this.next[m] = this.head;
    this.head = m;
    this.frees++;
    this.free++;
  }
}
