// The reference model: what a pool should do, in plain TypeScript, written
// from mbuf(9) and the profiles rather than from the core's code. The fuzzer
// runs every operation on a real pool and on the model and compares.
//
// The model keeps the live handles by name, each zone's carved items and
// pages, the arena's free pages, the reservation and every counter a report
// shows (denied, delayed, drains, census). Which pages a reclaim gives back
// depends on where free items happen to sit, which the model does not track:
// after a reclaim it checks the result's bounds and then takes the zones'
// sizes from the pool (`observeReclaim`).
//
// The packet zone (FreeBSD's cache of pre-joined mbuf+cluster pairs) is
// modelled by the number of parked pairs: a parked pair is neither in use
// nor free in the native zones (stats count it as cache in both lines); a
// getcl takes a parked pair first unless the reservation refuses the caller;
// freeing a whole pair (a cluster with no other reference) parks it; when a
// native zone runs dry, and on reclaim, every parked pair goes back to its
// zones before anything else is tried, except in mode "none" (the 2005
// behaviour, where pairs never go back). The fuzzer runs the zone without a
// timer (interval 0): balancing happens only through packetBalance/Refill/Drain.
//
// Clusters shared by reference count (m_copym, m_split) are kept by address
// with their number of chain references (`shared`): in use, owned by no
// chain alone, freed with their last reference. Which clusters an operation
// shares is layout, read from the pool (walk.ts) and recounted by `reshape`;
// `checkHeld` then holds the pool to exactly what the chains and sockets hold.
// Socket buffers are modelled as records of bytes with sb_hiwat and sb_lowat.
//
// Jumbo clusters (the freebsd profile's getjcl / cljget) are modelled by zone:
// limit, carved items and pages, items in use, denied and delayed. An mbuf
// with a jumbo cluster is kept apart from the chain ops' handles (`jumbos`):
// the trace only frees it. A 9k or 16k slab needs contiguous pages, which
// the model knows only while no page ever went back to the arena (then the
// free pages are exactly those above the last carved one): after a reclaim
// that released pages (`holes`), only page-size jumbo clusters are generated.

import { M_WAITOK, M_RECV, MT_NTYPES, MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES, PAGE_SIZE } from "../constants.js";
import type { Profile, Layout } from "../tunables/profiles.js";
import type { PoolStats } from "../stats/snapshot.js";

export type ZoneName = "mbuf" | "cluster";
/** The packet zone as the model sees it: off, on without giving pairs back ("none"), on and giving them back. */
export type PacketModel = "off" | "none" | "reclaims";

/**
 * What a chain holds beyond its head, or a socket with its buffers: mbufs,
 * clusters and the census by type. How many buffers a chain operation takes
 * depends on the core's layout rules, which the model does not restate: it
 * is measured from the pool after each operation (`settle`), within bounds
 * the operation sets, and given back exactly when the chain is freed (so a
 * leak or a double count shows at the next statistics checkpoint).
 */
export interface Holding {
  mbufs: number;
  clusters: number;
  census: number[];
}

/** What the model knows of a live mbuf (the head of a chain). */
export interface LiveMbuf {
  type: number;
  pkthdr: boolean;
  cluster: boolean;
  /** The chain's bytes (exact). */
  bytes?: number[];
  /** Buffers of the chain beyond the head (measured). */
  extra?: Holding;
  /** Shared clusters the chain references, one entry per reference (see Model.shared). */
  refs?: number[];
}

/** An open socket: the bytes of each socket buffer (exact) and the buffers it holds (measured). */
export interface LiveSocket {
  snd: number[];
  rcv: number[];
  hold: Holding;
  /** Each socket buffer's records (m_nextpkt), by length in bytes, oldest first (none empty). */
  recs: { snd: number[]; rcv: number[] };
  /** sb_hiwat and sb_lowat of each socket buffer. */
  hiwat: { snd: number; rcv: number };
  lowat: { snd: number; rcv: number };
}

/** Drops `len` bytes from the front of records `recs` (sbdrop: a record used up goes with them). */
export function dropRecords(recs: number[], len: number): void {
  while (len > 0 && recs.length) {
    if (recs[0] > len) {
      recs[0] -= len;
      return;
    }
    len -= recs.shift()!;
  }
}

/** The bytes of trace value {"$":"bytes","n":n,"s":s}: byte i is (s + 31 i) mod 256. */
export function patternBytes(n: number, seed: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = (seed + 31 * i) & 255;
  return out;
}

/** A short digest of bytes (length and FNV-1a), as copydata results are recorded. */
export function digest(bytes: ArrayLike<number>): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193) >>> 0;
  return `${bytes.length}:${h.toString(16).padStart(8, "0")}`;
}

/** to += sign * d. */
function add(to: Holding, d: Holding, sign: number): void {
  to.mbufs += sign * d.mbufs;
  to.clusters += sign * d.clusters;
  for (let t = 0; t < MT_NTYPES; t++) to.census[t] += sign * d.census[t];
}

/** Everything chain `l` holds, its head included, times `sign`. */
function wholeChain(l: LiveMbuf, sign: number): Holding {
  const h = emptyHolding();
  h.mbufs = sign;
  h.census[l.type] = sign;
  h.clusters = l.cluster ? sign : 0;
  if (l.extra) add(h, l.extra, sign);
  return h;
}

export const emptyHolding = (): Holding => ({ mbufs: 0, clusters: 0, census: new Array<number>(MT_NTYPES).fill(0) });

/** What a packet-zone epoch reports (Pool.packetBalance). */
export interface PacketEpochLike {
  demand: number;
  cache: number;
  target: number;
  low: number;
  refilled: number;
  drained: number;
}

/** One zone's size. */
export interface ModelZone {
  /** The zone's limit (nmbufs / nmbclusters; a runtime sysctl may raise it). */
  limit: number;
  readonly perPage: number;
  readonly grows: boolean;
  /** Items carved (in use + free). */
  total: number;
  pages: number;
  denied: number;
  delayed: number;
}

/** A jumbo zone of the model. */
export interface ModelJumbo {
  readonly size: number;
  readonly perSlab: number;
  readonly slabPages: number;
  limit: number;
  total: number;
  pages: number;
  inUse: number;
  denied: number;
  delayed: number;
}

/** One zone's figures the model predicts. */
type ZoneFigures = { current: number; total: number; pages: number; denied: number; delayed: number };

/** The part of a pool's statistics the model predicts exactly. */
export interface ModelStats {
  mbufs: { current: number; total: number; pages: number; denied: number; delayed: number };
  clusters: { current: number; total: number; pages: number; denied: number; delayed: number };
  census: number[];
  drains: number;
  reservedDenied: number;
  reservation: { flag: boolean; count: number; auto: boolean };
  /** Pairs parked in the packet cache. */
  packetCache: number;
  /**
   * The jumbo zones (page-size, 9k, 16k), once one was used (a trace of a pool that never uses
   * one reads as it did before they existed).
   */
  jumbo?: ZoneFigures[];
}

export class Model {
  /** Live mbufs by handle name. */
  readonly live = new Map<string, LiveMbuf>();
  /** Open sockets by handle name. */
  readonly sockets = new Map<string, LiveSocket>();
  /** Sum of every chain's and socket's holding (kept with them). */
  private readonly held: Holding = emptyHolding();
  /** Handles the trace freed. */
  readonly dead = new Set<string>();
  /** Handles allocated so far (the next is `h${allocated + 1}`). */
  allocated = 0;
  readonly zones: Record<ZoneName, ModelZone>;
  /** Arena pages thewall allows. */
  readonly maxPages: number;
  drains = 0;
  reservedDenied = 0;
  resvFlag = false;
  resvCount = 0;
  /** Drain routines in registration order: each frees its handle once, if it is still live. */
  readonly drainRoutines: string[] = [];
  /**
   * Reentrant drain routines and listeners (generated with the fuzzer's
   * `reentrant` option): sockets a drain routine closes once, if still open;
   * and how many routines or listeners throw, or audit the pool. None of
   * them may change what an operation gives: a throwing routine or `exhausted`
   * listener is reported and the others still run, an audit in a drain
   * routine finds the books clean.
   */
  readonly drainCloses: string[] = [];
  reentrantHooks = 0;
  private clusterCount = 0;
  /** True if the pool runs netm (AIX's pool manager) on its clock: clock advances then grow or shrink zones. */
  netm = false;
  /** Pairs parked in the packet cache (also counted by neither zone's free items). */
  parked = 0;
  /** The jumbo zones by size (none on a profile without them). */
  readonly jumbo = new Map<number, ModelJumbo>();
  /** Live mbufs holding a jumbo cluster, by handle name: their type and cluster size. */
  readonly jumbos = new Map<string, { type: number; size: number }>();
  /** True once a page went back to the arena: contiguous free pages are no longer known. */
  holes = false;
  /**
   * Clusters shared by reference (m_copym, m_split), by address: how many
   * chain references each has. Such a cluster is in use, owned by no chain
   * alone; it is freed (its pair parked) when its last reference goes.
   */
  readonly shared = new Map<number, number>();
  /**
   * Set by whoever runs the model beside a pool: true if a freed handle's
   * address is held by a live handle again (then the name would reach that
   * one, so it is no "freed handle" to test with).
   */
  addressReused: (name: string) => boolean = () => false;

  constructor(readonly profile: Profile, readonly layout: Layout, public packet: PacketModel = "off") {
    const clPerPage = 4096 / profile.mclbytes;
    this.maxPages = Math.floor(layout.thewall / 4096);
    const zone = (limit: number, perPage: number, grows: boolean): ModelZone =>
      ({ limit, perPage, grows, total: 0, pages: 0, denied: 0, delayed: 0 });
    this.zones = {
      mbuf: zone(layout.nmbufs, 16, layout.mbufGrows),
      cluster: zone(layout.nmbclusters, clPerPage, layout.clusterGrows),
    };
    if (layout.jumbo) {
      const j = (size: number, perSlab: number, slabPages: number, limit: number): void => {
        this.jumbo.set(size, { size, perSlab, slabPages, limit, total: 0, pages: 0, inUse: 0, denied: 0, delayed: 0 });
      };
      j(MJUMPAGESIZE, 1, 1, layout.jumbo.page);
      j(MJUM9BYTES, 4, 9, layout.jumbo.nine);
      j(MJUM16BYTES, 1, 4, layout.jumbo.sixteen);
    }
    // Pool.create carves the profile's start-up items with mb_grow.
    if (layout.preallocMbufs) this.grow("mbuf", layout.preallocMbufs);
    if (layout.preallocClusters) this.grow("cluster", layout.preallocClusters);
  }

  /** Items of a zone in use. */
  inUse(z: ZoneName): number {
    return z === "mbuf" ? this.live.size + this.jumbos.size + this.held.mbufs : this.clusterCount + this.held.clusters + this.shared.size;
  }

  /** Adds `d` to holding `h` and to the sum. */
  hold(h: Holding, d: Holding): void {
    add(h, d, 1);
    add(this.held, d, 1);
  }

  /** Takes a whole holding out of the sum (its chain or socket is gone). */
  private unhold(h: Holding): void {
    add(this.held, h, -1);
  }

  /** Free items a zone holds (parked pairs are not free: they hold an mbuf and a cluster). */
  free(z: ZoneName): number {
    return this.zones[z].total - this.inUse(z) - this.parked;
  }

  /** Pairs the packet cache would give back before a request fails. */
  private reclaimable(): number {
    return this.packet === "reclaims" ? this.parked : 0;
  }

  /** packet_reclaim: every parked pair back to its zones (not in mode "none"); true if any went. */
  packetReclaim(): boolean {
    if (!this.reclaimable()) return false;
    this.parked = 0;
    return true;
  }

  /** Turns the packet zone on, off (every parked pair goes back) or to another mode. */
  setPacket(mode: PacketModel): void {
    this.packet = mode;
    if (mode === "off") this.parked = 0;
  }

  /** Pages no zone owns (the arena's free list plus never-carved pages). */
  pagesAvailable(): number {
    let jumboPages = 0;
    for (const j of this.jumbo.values()) jumboPages += j.pages;
    return this.maxPages - this.zones.mbuf.pages - this.zones.cluster.pages - jumboPages;
  }

  /** The cluster sizes getjcl may be generated with now (see `holes`). */
  jumboSizes(): number[] {
    const sizes: number[] = [this.profile.mclbytes];
    if (this.jumbo.size) sizes.push(...(this.holes ? [MJUMPAGESIZE] : [MJUMPAGESIZE, MJUM9BYTES, MJUM16BYTES]));
    return sizes;
  }

  /** Carves one slab into jumbo zone `j` if its limit and the arena allow (contiguous pages: see `holes`). */
  private carveJumbo(j: ModelJumbo): boolean {
    const room = j.limit - j.total;
    if (room <= 0) return false;
    const n = Math.min(room, j.perSlab);
    const pages = Math.ceil((n * j.size) / PAGE_SIZE);
    if (this.pagesAvailable() < pages) return false;
    j.total += n;
    j.pages += pages;
    return true;
  }

  /** Takes a jumbo cluster of zone `j`: a free one, a new slab, or after the drain routines (the cluster zone's rule), else counted. */
  private takeJumbo(j: ModelJumbo, how: number): boolean {
    if (j.total - j.inUse > 0 || this.carveJumbo(j)) return true;
    const rule = this.profile.drain.cluster;
    if (rule === "always" || (rule === "wait" && (how & M_WAITOK))) {
      this.drains++;
      this.runDrains();
      if (j.total - j.inUse > 0 || this.carveJumbo(j)) return true;
    }
    if (how & M_WAITOK) j.delayed++;
    else j.denied++;
    return false;
  }

  /** m_getjcl of a jumbo size: the new handle's name, or 0 (the mbuf goes back if no cluster). */
  getjcl(how: number, type: number, pkthdr: boolean, size: number): string | 0 {
    if (size === this.profile.mclbytes) return this.getcl(how, type, pkthdr);
    const j = this.jumbo.get(size)!;
    if (!this.takeMbuf(how) || !this.takeJumbo(j, how)) return 0;
    j.inUse++;
    const name = `h${++this.allocated}`;
    this.jumbos.set(name, { type, size });
    return name;
  }

  /** m_cljget of a jumbo size on a live empty head without a cluster: true if one was attached (the handle is a jumbo one then). */
  cljget(name: string, how: number, size: number): boolean {
    if (size === this.profile.mclbytes) return this.clget(name, how);
    const j = this.jumbo.get(size)!;
    if (!this.takeJumbo(j, how)) return false;
    const l = this.live.get(name);
    if (!l) return false; // a drain routine freed the mbuf during the call: the cluster goes back
    this.live.delete(name);
    this.jumbos.set(name, { type: l.type, size });
    j.inUse++;
    return true;
  }

  /**
   * A runtime write of a jumbo limit (kern.ipc.nmbjumbop / nmbjumbo9 / nmbjumbo16 for zone
   * `size`): only raised, and the zone's items must fit in thewall on their own. Returns the
   * change, or ETUNABLE.
   */
  sysctlJumbo(name: string, size: number, value: number): { name: string; old: number; new: number } | { error: string } {
    const j = this.jumbo.get(size)!, old = j.limit;
    if (value === old) return { name, old, new: value };
    if (value < old || value * size > this.layout.thewall) return { error: "ETUNABLE" };
    j.limit = value;
    return { name, old, new: value };
  }

  /** Frees an mbuf with a jumbo cluster: the cluster goes back to its zone (never to the packet cache). */
  releaseJumbo(name: string): void {
    const l = this.jumbos.get(name);
    if (!l) throw new Error(`model: ${name} holds no jumbo cluster`);
    this.jumbo.get(l.size)!.inUse--;
    this.jumbos.delete(name);
    this.dead.add(name);
  }

  /** Carves one page into a zone if its limit and the arena allow. */
  private carve(z: ZoneName): boolean {
    const zone = this.zones[z];
    const room = zone.limit - zone.total;
    if (room <= 0 || this.pagesAvailable() <= 0) return false;
    zone.total += Math.min(room, zone.perPage);
    zone.pages++;
    return true;
  }

  /** mb_grow: carves pages until `want` items are free; returns items added. */
  grow(z: ZoneName, want: number): number {
    const before = this.zones[z].total;
    while (this.free(z) < want && this.carve(z)) { /* carve */ }
    return this.zones[z].total - before;
  }

  /** Takes an item if one is free or can be carved on demand. */
  private take(z: ZoneName): boolean {
    return this.free(z) > 0 || (this.zones[z].grows && this.carve(z));
  }

  /** A failed take: parked pairs back first, then the profile's drain rule, one retry after drains, then denied or delayed. */
  private failed(z: ZoneName, how: number): boolean {
    if (this.packetReclaim() && this.free(z) > 0) return true;
    const rule = this.profile.drain[z];
    if (rule === "always" || (rule === "wait" && (how & M_WAITOK))) {
      this.drains++;
      this.runDrains();
      if (this.free(z) > 0 || (this.zones[z].grows && this.carve(z))) return true;
      // What the drain routines freed may have been parked.
      if (this.packetReclaim() && this.free(z) > 0) return true;
    }
    if (how & M_WAITOK) this.zones[z].delayed++;
    else this.zones[z].denied++;
    return false;
  }

  /** Runs the drain routines: each frees its handle (and the handle's cluster) if it is still live. */
  private runDrains(): void {
    for (const name of this.drainRoutines) {
      if (this.live.has(name)) this.release(name);
      else if (this.jumbos.has(name)) this.releaseJumbo(name);
    }
    for (const so of this.drainCloses) if (this.sockets.has(so)) this.closeSocket(so);
  }

  /** Takes an mbuf item, or counts the failure. */
  private takeMbuf(how: number): boolean {
    return this.take("mbuf") || this.failed("mbuf", how);
  }

  /** Clusters the native zone could give: free ones plus what it could carve. */
  private nativeClusters(): number {
    const z = this.zones.cluster;
    let n = this.free("cluster");
    if (z.grows) n += Math.min(z.limit - z.total, this.pagesAvailable() * z.perPage);
    return n;
  }

  /** Clusters the receive class could still get: native ones plus parked pairs that would go back. */
  private clustersAvailable(): number {
    return this.nativeClusters() + this.reclaimable();
  }

  /** True if the reservation refuses a cluster to `how` (not the receive class). */
  private reserved(how: number): boolean {
    return !(how & M_RECV) && (this.resvFlag || (this.resvCount > 0 && this.clustersAvailable() <= this.resvCount));
  }

  /** m_clalloc: the reservation first, then the zone. */
  private takeCluster(how: number): boolean {
    if (this.reserved(how)) {
      this.reservedDenied++;
      if (how & M_WAITOK) this.zones.cluster.delayed++;
      else this.zones.cluster.denied++;
      return false;
    }
    return this.take("cluster") || this.failed("cluster", how);
  }

  /** Records a new live mbuf; returns its name. */
  private add(l: LiveMbuf): string {
    const name = `h${++this.allocated}`;
    this.live.set(name, l);
    if (l.cluster) this.clusterCount++;
    return name;
  }

  /** Frees a live chain and its clusters (each whole pair is parked while the packet zone is on). */
  release(name: string): void {
    const l = this.live.get(name);
    if (!l) throw new Error(`model: ${name} is not live`);
    if (l.cluster) {
      this.clusterCount--;
      if (this.packet !== "off") this.parked++;
    }
    if (l.extra) {
      // Clusters the chain owns alone: each is the last reference.
      if (this.packet !== "off") this.parked += l.extra.clusters;
      this.unhold(l.extra);
    }
    // A shared cluster goes (its pair parked) with its last reference.
    for (const c of l.refs ?? []) if (this.unref(c) && this.packet !== "off") this.parked++;
    this.live.delete(name);
    this.dead.add(name);
  }

  // === Operations (arguments already valid) ===

  /** m_get / m_gethdr: the new handle's name, or 0. */
  get(how: number, type: number, pkthdr: boolean): string | 0 {
    if (!this.takeMbuf(how)) return 0;
    return this.add({ type, pkthdr, cluster: false });
  }

  /** m_getcl: the new handle's name, or 0 (the mbuf goes back if no cluster). */
  getcl(how: number, type: number, pkthdr: boolean): string | 0 {
    // A parked pair first, unless the reservation refuses the caller.
    if (this.parked > 0 && this.packet !== "off" && !this.reserved(how)) {
      this.parked--;
      return this.add({ type, pkthdr, cluster: true });
    }
    // While the cluster is sought the mbuf is taken but not live; nothing
    // in between looks at the mbuf zone's free count, so it needs no marker.
    if (!this.takeMbuf(how) || !this.takeCluster(how)) return 0;
    return this.add({ type, pkthdr, cluster: true });
  }

  /** m_clget on a live mbuf without a cluster: true if one was attached. */
  clget(name: string, how: number): boolean {
    const l = this.live.get(name)!;
    if (!this.takeCluster(how)) return false;
    if (!this.live.has(name)) {
      // A drain routine freed the mbuf during the call: the cluster goes back.
      return false;
    }
    l.cluster = true;
    this.clusterCount++;
    return true;
  }

  /**
   * The head `name` left the trace's hands without being freed (m_cat linked
   * it into another chain). Its shared references stay counted: whoever takes
   * its mbufs takes them (`into`), or `reshape` recounts them.
   */
  consumed(name: string, into?: LiveMbuf): LiveMbuf {
    const l = this.live.get(name)!;
    this.live.delete(name);
    if (l.cluster) this.clusterCount--;
    if (l.extra) this.unhold(l.extra);
    if (into && l.refs?.length) (into.refs ??= []).push(...l.refs);
    return l;
  }

  /** Drops one reference to shared cluster `c`; true if it was the last (the cluster is freed). */
  private unref(c: number): boolean {
    const n = (this.shared.get(c) ?? 0) - 1;
    if (n > 0) this.shared.set(c, n);
    else this.shared.delete(c);
    return n <= 0;
  }

  /**
   * After an operation that rearranged clusters among chains `walks` (live
   * heads, by name, with their layouts read from the pool) and dropped chains
   * `gone` (already out of the live set, by consumed): recounts what each
   * holds. A cluster already shared keeps its count, adjusted to the
   * references now seen; one seen in more than one place becomes shared; a
   * shared one with no reference left was freed. Returns a problem, if any
   * (a head's type other than the model's).
   */
  reshape(walks: ReadonlyMap<string, readonly { type: number; ext: number }[]>, gone: readonly LiveMbuf[] = []): string | undefined {
    const before = new Map<number, number>();
    const drop = (l: LiveMbuf): void => {
      for (const c of l.refs ?? []) before.set(c, (before.get(c) ?? 0) + 1);
      l.refs = [];
    };
    for (const l of gone) drop(l);
    for (const name of walks.keys()) {
      const l = this.live.get(name)!;
      drop(l);
      if (l.cluster) this.clusterCount--;
      if (l.extra) this.unhold(l.extra);
    }
    for (const [c, n] of before) this.shared.set(c, (this.shared.get(c) ?? 0) - n);
    const seen = new Map<number, number>();
    for (const w of walks.values()) for (const x of w) if (x.ext) seen.set(x.ext, (seen.get(x.ext) ?? 0) + 1);
    for (const [c, n] of seen) {
      if (this.shared.has(c)) this.shared.set(c, this.shared.get(c)! + n);
      else if (n > 1) this.shared.set(c, n);
    }
    for (const [c, n] of this.shared) {
      if (n < 0) return `shared cluster ${c} has ${n} references`;
      if (n === 0) this.shared.delete(c);
    }
    for (const [name, w] of walks) {
      const l = this.live.get(name)!;
      if (!w.length) return `${name} walks to no mbuf`;
      if (w[0].type !== l.type) return `${name}'s head has type ${w[0].type}, the model says ${l.type}`;
      l.refs = w.filter((x) => x.ext && this.shared.has(x.ext)).map((x) => x.ext);
      l.cluster = w[0].ext !== 0 && !this.shared.has(w[0].ext);
      if (l.cluster) this.clusterCount++;
      const extra = emptyHolding();
      for (const x of w.slice(1)) {
        extra.mbufs++;
        extra.census[x.type]++;
        if (x.ext && !this.shared.has(x.ext)) extra.clusters++;
      }
      l.extra = emptyHolding();
      this.hold(l.extra, extra);
    }
    return undefined;
  }

  /** Checks that the buffers the model's chains and sockets hold are exactly those the pool has in use. */
  checkHeld(s: PoolStats): string | undefined {
    const census = this.stats().census;
    if (s.mbufs.current !== this.inUse("mbuf")) return `the pool has ${s.mbufs.current} mbufs in use, the chains hold ${this.inUse("mbuf")}`;
    if (s.clusters.current !== this.inUse("cluster")) return `the pool has ${s.clusters.current} clusters in use, the chains hold ${this.inUse("cluster")}`;
    if (s.census.some((n, t) => n !== census[t])) return `the census is ${s.census}, the chains hold ${census}`;
    return undefined;
  }

  /** Adds a new head measured from the pool (m_dup's copy); returns its name. */
  addChain(type: number, pkthdr: boolean, bytes: number[], d: Holding = emptyHolding()): string {
    // The head's own mbuf is counted by the live set: the rest is the chain's holding.
    const extra = emptyHolding();
    const head: Holding = { mbufs: 1, clusters: 0, census: new Array<number>(MT_NTYPES).fill(0) };
    head.census[type] = 1;
    add(d, head, -1);
    const name = this.add({ type, pkthdr, cluster: false, bytes, extra });
    this.hold(extra, d);
    return name;
  }

  /** Records an open socket with what it holds; returns its name. */
  addSocket(d: Holding): string {
    const name = `h${++this.allocated}`;
    // socreate reserves 32768 bytes to send and 65536 to receive (the Pool.socreate defaults the fuzzer uses).
    const so: LiveSocket = {
      snd: [], rcv: [], hold: emptyHolding(), recs: { snd: [], rcv: [] }, hiwat: { snd: 32768, rcv: 65536 }, lowat: { snd: 0, rcv: 0 },
    };
    this.sockets.set(name, so);
    this.hold(so.hold, d);
    return name;
  }

  /** sbappend / sbappendrecord: chain `name` (no shared cluster) goes to socket `so`, with everything it holds. */
  giveToSocket(name: string, so: LiveSocket): LiveMbuf {
    const l = this.consumed(name);
    this.hold(so.hold, wholeChain(l, 1));
    return l;
  }

  /** sbtake: the socket gives up what new chain `name` holds (recounted from its layout first). */
  takeFromSocket(name: string, so: LiveSocket): void {
    this.hold(so.hold, wholeChain(this.live.get(name)!, -1));
  }

  /** soclose: everything the socket holds is freed (whole pairs parked). */
  closeSocket(name: string): void {
    const so = this.sockets.get(name)!;
    if (this.packet !== "off") this.parked += so.hold.clusters;
    this.unhold(so.hold);
    this.sockets.delete(name);
    this.dead.add(name);
  }

  /**
   * After an operation whose buffer use is measured: drain routines that ran
   * have freed their handles, zones may have carved, counted failures or
   * given the packet cache back. Takes those from the pool (each within its
   * bound) and returns what the operation itself took (+) or freed (-), or a problem.
   */
  settle(s: PoolStats, stillLive: (name: string) => boolean): Holding | string {
    for (const name of this.drainRoutines) if (this.live.has(name) && !stillLive(name)) this.release(name);
    for (const so of this.drainCloses) if (this.sockets.has(so) && !stillLive(so)) this.closeSocket(so);
    if (s.drains < this.drains) return `drains went back from ${this.drains} to ${s.drains}`;
    this.drains = s.drains;
    if (s.reservedDenied < this.reservedDenied) return "reservedDenied went back";
    this.reservedDenied = s.reservedDenied;
    for (const z of ["mbuf", "cluster"] as const) {
      const zone = this.zones[z], after = z === "mbuf" ? s.mbufs : s.clusters;
      if (after.total < zone.total || after.pages < zone.pages) return `the ${z} zone shrank during an allocation`;
      if (after.total > zone.limit) return `the ${z} zone passed its limit`;
      if (after.denied < zone.denied || after.delayed < zone.delayed) return `the ${z} zone's failure counts went back`;
      Object.assign(zone, { total: after.total, pages: after.pages, denied: after.denied, delayed: after.delayed });
    }
    if (this.packet === "off" && s.packets.cache) return "pairs parked with the packet zone off";
    this.parked = s.packets.cache;
    const census = this.stats().census;
    const d: Holding = {
      mbufs: s.mbufs.current - this.inUse("mbuf"), clusters: s.clusters.current - this.inUse("cluster"),
      census: s.census.map((n, t) => n - census[t]),
    };
    if (d.census.reduce((a, b) => a + b, 0) !== d.mbufs) return `the census moved by ${d.census.reduce((a, b) => a + b, 0)}, the mbufs by ${d.mbufs}`;
    return d;
  }

  /** packetRefill: joins up to `n` pairs from the native zones (carving, never failing a request); ESTATE if off. */
  packetRefill(n: number): number | { error: string } {
    if (this.packet === "off") return { error: "ESTATE" };
    if (this.resvFlag) return 0;
    let k = 0;
    while (k < n) {
      if (this.resvCount && this.nativeClusters() <= this.resvCount) break;
      const grab = (z: ZoneName): boolean => this.free(z) > 0 || (this.zones[z].grows && this.carve(z));
      if (!grab("mbuf") || !grab("cluster")) break;
      this.parked++;
      k++;
    }
    return k;
  }

  /** packetDrain: splits up to `n` parked pairs back into their zones. */
  packetDrain(n: number): number {
    const k = Math.min(n, this.parked);
    this.parked -= k;
    return k;
  }

  /** After a balancing epoch: checks what it moved against the cache, then takes the zones' sizes from the pool (a refill may carve). */
  observeBalance(e: PacketEpochLike, s: PoolStats): string | undefined {
    if (typeof e !== "object" || e === null) return `packetBalance returned ${JSON.stringify(e)}`;
    if (e.cache !== this.parked) return `the epoch saw ${e.cache} parked pairs, the model ${this.parked}`;
    if (this.packet === "off" || this.packet === "none") {
      if (e.refilled || e.drained) return `a packet zone in mode ${this.packet} moved pairs`;
    }
    if (e.refilled < 0 || e.drained < 0 || (e.refilled && e.drained)) return `the epoch refilled ${e.refilled} and drained ${e.drained}`;
    if (e.drained > this.parked) return `the epoch drained ${e.drained} of ${this.parked} parked pairs`;
    const parked = this.parked + e.refilled - e.drained;
    if (s.packets.cache !== parked) return `the cache holds ${s.packets.cache} pairs after the epoch, expected ${parked}`;
    if (s.mbufs.current !== this.inUse("mbuf") || s.clusters.current !== this.inUse("cluster")) return "the epoch changed the items in use";
    for (const z of ["mbuf", "cluster"] as const) {
      const zone = this.zones[z], after = z === "mbuf" ? s.mbufs : s.clusters;
      if (after.total < zone.total || after.pages < zone.pages) return `the epoch shrank the ${z} zone`;
      // A refill carves as it goes: one that found no cluster still keeps the mbufs it carved.
      const triedRefill = e.refilled > 0 || e.cache < e.low || e.cache < e.target;
      if (!triedRefill && (after.total !== zone.total || after.pages !== zone.pages)) return `the epoch grew the ${z} zone without a refill`;
      zone.total = after.total;
      zone.pages = after.pages;
    }
    this.parked = parked;
    return undefined;
  }

  /** After netm ran on a clock advance: checks it only grew zones or shrank the cluster zone, then takes their sizes. */
  observeNetm(s: PoolStats): string | undefined {
    if (s.mbufs.current !== this.inUse("mbuf") || s.clusters.current !== this.inUse("cluster")) return "netm changed the items in use";
    // A cluster shrink is a reclaim: it gives every parked pair back first (not in mode "none").
    if (s.packets.cache !== this.parked && !(s.packets.cache === 0 && this.packet === "reclaims")) return "netm changed the packet cache";
    this.parked = s.packets.cache;
    for (const z of ["mbuf", "cluster"] as const) {
      const zone = this.zones[z], after = z === "mbuf" ? s.mbufs : s.clusters;
      if (after.denied !== zone.denied || after.delayed !== zone.delayed) return `netm counted a failed ${z} request`;
      if (after.total > zone.limit) return `netm grew the ${z} zone past its limit`;
      if (z === "mbuf" && after.total < zone.total) return "netm shrank the mbuf zone (AIX never does)";
      if (after.pages < zone.pages) this.holes = true;
      zone.total = after.total;
      zone.pages = after.pages;
    }
    if (this.pagesAvailable() < 0) return "netm grew the zones past thewall";
    return undefined;
  }

  /** Freed handles whose address no live handle holds: what a "freed handle" test may use. */
  freedHandles(): string[] {
    return [...this.dead].filter((name) => !this.addressReused(name));
  }

  /**
   * A runtime write of a zone's limit (kern.ipc.nmbclusters / nmbufs), by the
   * profile's rule: FreeBSD's sysctl handler only raises them (4.x sizes them
   * at boot: no write); the mbufs and the clusters must still fit in thewall,
   * and nmbufs may not fall below nmbclusters. Returns the change, or ETUNABLE.
   */
  sysctlLimit(name: string, z: ZoneName, value: number): { name: string; old: number; new: number } | { error: string } {
    const zone = this.zones[z], old = zone.limit;
    const runtime = this.profile.tunables.find((t) => t.name === name)?.runtime;
    if (value === old) return { name, old, new: value };
    if (runtime !== "raise" || value < old) return { error: "ETUNABLE" };
    if (value * (z === "mbuf" ? 256 : this.profile.mclbytes) > this.layout.thewall) return { error: "ETUNABLE" };
    if (z === "cluster" && value > this.zones.mbuf.limit) return { error: "ETUNABLE" };
    zone.limit = value;
    return { name, old, new: value };
  }

  /** Counts a waiting request that gave up. */
  waitFailed(z: ZoneName): void {
    this.zones[z].denied++;
  }

  /** After a reclaim that released `pages` pages: checks the bounds, then takes the zone's size from the pool. */
  observeReclaim(z: ZoneName, keep: number, pages: number, s: PoolStats): string | undefined {
    const zone = this.zones[z];
    const after = z === "mbuf" ? s.mbufs : s.clusters;
    const freeBefore = this.free(z);
    if (!this.profile.reclaims && pages !== 0) return `reclaim on ${this.profile.name} released ${pages} pages`;
    if (pages < 0 || pages > zone.pages) return `reclaim released ${pages} of ${zone.pages} pages`;
    if (after.pages !== zone.pages - pages) return `reclaim released ${pages} pages but the zone went from ${zone.pages} to ${after.pages}`;
    if (after.current !== this.inUse(z)) return `reclaim changed the items in use (${this.inUse(z)} -> ${after.current})`;
    // after.cache counts parked pairs too (mode "none" keeps them through a reclaim).
    if (after.cache - this.parked < Math.min(keep, freeBefore)) return `reclaim kept ${after.cache - this.parked} free items, fewer than keep=${keep}`;
    if (after.total > zone.total) return "reclaim grew the zone";
    zone.total = after.total;
    zone.pages = after.pages;
    if (pages > 0) this.holes = true;
    return undefined;
  }

  /** The statistics the model predicts. */
  stats(): ModelStats {
    const census = new Array<number>(MT_NTYPES).fill(0);
    for (const l of this.live.values()) census[l.type]++;
    for (const l of this.jumbos.values()) census[l.type]++;
    for (let t = 0; t < MT_NTYPES; t++) census[t] += this.held.census[t];
    const jumbo = [...this.jumbo.values()].map((j) => ({
      current: j.inUse, total: j.total, pages: j.pages, denied: j.denied, delayed: j.delayed,
    }));
    const z = (n: ZoneName) => ({
      current: this.inUse(n), total: this.zones[n].total, pages: this.zones[n].pages,
      denied: this.zones[n].denied, delayed: this.zones[n].delayed,
    });
    return {
      mbufs: z("mbuf"), clusters: z("cluster"), census, drains: this.drains, reservedDenied: this.reservedDenied,
      reservation: { flag: this.resvFlag, count: this.resvCount, auto: false }, packetCache: this.parked,
      ...jumboFigures(jumbo),
    };
  }
}

/** The model's view of a pool's packet zone setting (Pool.packetZone). */
export function packetModelOf(config: { mode: string } | null): PacketModel {
  return !config ? "off" : config.mode === "none" ? "none" : "reclaims";
}

/** The same figures, read from a pool's snapshot. */
export function observedStats(s: PoolStats): ModelStats {
  const z = (x: PoolStats["mbufs"]) => ({ current: x.current, total: x.total, pages: x.pages, denied: x.denied, delayed: x.delayed });
  return {
    mbufs: z(s.mbufs), clusters: z(s.clusters), census: [...s.census], drains: s.drains,
    reservedDenied: s.reservedDenied, reservation: { ...s.reservation }, packetCache: s.packets.cache,
    ...jumboFigures(s.jumbo ? [s.jumbo.page, s.jumbo.nine, s.jumbo.sixteen].map(z) : []),
  };
}

/** `{ jumbo }` if any jumbo zone was used (carved, or refused a request), else nothing. */
function jumboFigures(zones: ZoneFigures[]): { jumbo?: ZoneFigures[] } {
  return zones.some((z) => z.total || z.pages || z.denied || z.delayed) ? { jumbo: zones } : {};
}
