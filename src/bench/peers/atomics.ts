// The floor of a sound single-call pair on a shared pool, as a peer: a module
// that runs only the atomics of the two fast paths (assembly/cache.ts) on a
// shared memory, with no pool around them. `get` raises the slot's reader
// flag, reads the writer word and lowers the flag; `free` does the same around
// the claim, a compare-exchange on the mbuf's header that catches a double
// free from two threads. The words sit a cache line apart, as in the pool.
// No pool can run a shared single-call pair faster than this pair of calls:
// what it measures is the cost of the memory model, not of mbufpool.
//
// Written as bytes, not compiled: 130 bytes of module need no build step, and
// the instruction comments below are the whole program.

/** The two calls of the floor pair. */
export interface AtomicsFloor {
  get(): void;
  free(): void;
}

// Memory arguments of an access: alignment 2^2, then the offset (LEB128). The
// words: the reader flag at 0, the writer word at 64, the header at 128.
const FLAG = [0x02, 0x00], WRITER = [0x02, 0x40], HEADER = [0x02, 0x80, 0x01];
const I32_CONST_0 = [0x41, 0x00], I32_CONST_1 = [0x41, 0x01];
const ATOMIC_STORE = [0xfe, 0x17], ATOMIC_LOAD = [0xfe, 0x10], ATOMIC_CMPXCHG = [0xfe, 0x48];
const LOAD = [0x28], XOR = [0x73], DROP = [0x1a], END = [0x0b];

const raise = [...I32_CONST_0, ...I32_CONST_1, ...ATOMIC_STORE, ...FLAG];
const lower = [...I32_CONST_0, ...I32_CONST_0, ...ATOMIC_STORE, ...FLAG];
const readWriter = [...I32_CONST_0, ...ATOMIC_LOAD, ...WRITER, ...DROP];
const header = [...I32_CONST_0, ...LOAD, ...HEADER];
/** The claim: compare-exchange the header from what it holds to that with a bit flipped. */
const claim = [...I32_CONST_0, ...header, ...header, ...I32_CONST_1, ...XOR, ...ATOMIC_CMPXCHG, ...HEADER, ...DROP];

/** A function body: no locals, the code, end. */
const body = (code: number[]): number[] => {
  const b = [0x00, ...code, ...END];
  return [b.length, ...b]; // every body here is under 128 bytes: its size is one LEB128 byte
};
const section = (id: number, content: number[]): number[] => [id, content.length, ...content];
const name = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  ...section(1, [1, 0x60, 0, 0]), // one type: () -> ()
  ...section(2, [1, ...name("env"), ...name("memory"), 0x02, 0x03, 1, 1]), // a shared memory of one page
  ...section(3, [2, 0, 0]), // two functions of that type
  ...section(7, [2, ...name("get"), 0x00, 0, ...name("free"), 0x00, 1]),
  ...section(10, [2, ...body([...raise, ...readWriter, ...lower]), ...body([...raise, ...readWriter, ...claim, ...lower])]),
]);

/** Byte offsets of the words the floor pair touches. */
export const FLOOR_WORDS = { flag: 0, writer: 64, header: 128 } as const;

/** An instance of the floor pair over `memory`: one shared page, its own unless given. */
export function loadAtomicsFloor(memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true })): AtomicsFloor {
  return new WebAssembly.Instance(new WebAssembly.Module(MODULE), { env: { memory } }).exports as unknown as AtomicsFloor;
}
