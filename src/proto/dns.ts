// A DNS question parser with the bounds checks seed 000's server needed:
// "Label claims to be longer than packet" must be a rejected query, never a
// read past the data or a buffer kept. Shared by the simulator and mbufpool/node.
// parseQueryChain reads a query out of a chain as the responder does; it names
// the three pool calls it uses rather than the Pool, which this layer never imports.

/** Why a query was rejected, or the parsed question. */
export type DnsParse =
  | { ok: true; id: number; name: string; qtype: number; end: number }
  | { ok: false; error: string };

/** Parses the header and first question of a DNS query held in `b`. */
export function parseQuery(b: Uint8Array): DnsParse {
  if (b.length < 12) return { ok: false, error: "Packet too short for a header" };
  const id = (b[0] << 8) | b[1];
  const qdcount = (b[4] << 8) | b[5];
  if (qdcount < 1) return { ok: false, error: "No question" };
  let off = 12;
  const labels: string[] = [];
  for (let hops = 0; ; hops++) {
    if (off >= b.length) return { ok: false, error: "Name runs past the end of the packet" };
    const len = b[off];
    if (len === 0) {
      off++;
      break;
    }
    if (len > 63) return { ok: false, error: "Label too long (compression is not allowed in a question)" };
    if (off + 1 + len > b.length) return { ok: false, error: "Label claims to be longer than packet" };
    if (hops >= 127) return { ok: false, error: "Too many labels" };
    labels.push(String.fromCharCode(...b.subarray(off + 1, off + 1 + len)));
    off += 1 + len;
  }
  if (off + 4 > b.length) return { ok: false, error: "Question runs past the end of the packet" };
  const qtype = (b[off] << 8) | b[off + 1];
  return { ok: true, id, name: labels.join("."), qtype, end: off + 4 };
}

/** The pool calls parseQueryChain reads a chain with (a Pool has them). */
export interface ChainReader {
  length(m: number): number;
  data(m: number): Uint8Array;
  copydata(m: number, off?: number, len?: number, out?: Uint8Array, outOff?: number): Uint8Array;
}

/** Largest query read (a classic DNS message over UDP). */
export const MAX_QUERY = 512;

/**
 * Parses the query held in the chain of `m`, which it only reads (the caller
 * still owns and frees it). One mbuf holding it all is read in place; a longer
 * chain is copied out whole into `scratch` (never past its end), so a header or
 * label split over two mbufs reads the same as in one.
 */
export function parseQueryChain(pool: ChainReader, m: number, scratch: Uint8Array = new Uint8Array(MAX_QUERY)): DnsParse {
  const len = pool.length(m);
  if (len > scratch.length) return { ok: false, error: `Query longer than ${scratch.length} bytes` };
  const first = pool.data(m);
  return parseQuery(first.length === len ? first : pool.copydata(m, 0, len, scratch).subarray(0, len));
}

/** Builds a query for `name` (a well-formed one unless `claimLonger` lies in the last label). */
export function buildQuery(id: number, name: string, options: { claimLonger?: number } = {}): Uint8Array {
  const parts = name.split(".");
  const bytes: number[] = [id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  parts.forEach((p, i) => {
    const claim = i === parts.length - 1 && options.claimLonger ? p.length + options.claimLonger : p.length;
    bytes.push(claim, ...Array.from(p, (c) => c.charCodeAt(0)));
  });
  if (!options.claimLonger) bytes.push(0, 0, 1, 0, 1);
  return Uint8Array.from(bytes);
}
