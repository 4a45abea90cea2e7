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

/**
 * The same freelist, with the books of the mbuf header too: each item is a
 * 256-byte slot of one Int32Array (as mbufs are in linear memory), get writes
 * what mbuf_init writes there (data pointer, length, type and flags, owner
 * tag, sequence number; links stay zero), put checks the links (a chain
 * would take another path) and marks the slot free. The least a host-side
 * cache in front of the core must do per pair (bench/README.md, finding 6).
 * The freelist's own books are a JsFreelist of its own (composition, not a
 * subclass: the baseline's methods must see one kind of receiver).
 */
export class JsHeaderFreelist {
  private readonly books: JsFreelist;
  /** The items: 64 words each; word 4 is type | flags << 16, 0 when free. */
  private readonly mem: Int32Array;
  owner = 0;
  seq = 0;

  constructor(readonly n: number) {
    this.books = new JsFreelist(n);
    this.mem = new Int32Array((n + 1) * 64);
  }

  /** An item typed `type` (1..15), its header initialised, or 0 if none is free (counted). */
  get(type: number): number {
    const m = this.books.get(type);
    if (m !== 0) {
      const w = m << 6, u = this.mem;
      u[w + 2] = (m << 8) + 32; // m_data
      u[w + 3] = 0; //            m_len
      u[w + 4] = type; //         m_type, m_flags = 0
      u[w + 5] = this.owner;
      u[w + 6] = ++this.seq;
    }
    return m;
  }

  /** Frees `m`; throws on a bad handle, a double free or a chain. */
  put(m: number): void {
    const w = m << 6, u = this.mem;
    if ((u[w] | u[w + 1]) !== 0) throw new Error(`${m} heads a chain`);
    this.books.put(m); // range and double-free checks, census, counters
    u[w + 4] = 0;
  }
}
