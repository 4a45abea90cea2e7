// The floor of the shared single-call pair (src/bench/peers/atomics.ts): a
// module written as bytes, so this checks that it is the program its comments
// say: get leaves the reader flag down, and each free's compare-exchange flips
// the header word, which only a compare-exchange that matched can do.
import { describe, it, expect } from "vitest";
import { loadAtomicsFloor, FLOOR_WORDS } from "../src/bench/peers/atomics.js";

describe("the atomics floor of a shared pair", () => {
  it("leaves the reader flag down after each call, never writes the writer word, and claims the header in free", () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const words = new Int32Array(memory.buffer);
    const floor = loadAtomicsFloor(memory);
    words[FLOOR_WORDS.writer / 4] = 7;
    floor.get();
    expect([words[FLOOR_WORDS.flag / 4], words[FLOOR_WORDS.header / 4]]).toEqual([0, 0]);
    floor.free();
    expect([words[FLOOR_WORDS.flag / 4], words[FLOOR_WORDS.header / 4]]).toEqual([0, 1]);
    floor.free();
    expect(words[FLOOR_WORDS.header / 4]).toBe(0);
    words[FLOOR_WORDS.header / 4] = 41;
    floor.free();
    expect(words[FLOOR_WORDS.header / 4]).toBe(40);
    expect(words[FLOOR_WORDS.writer / 4]).toBe(7); // read, never written
  });

  it("needs a shared memory (the atomics' memory is imported as shared)", () => {
    expect(() => loadAtomicsFloor(new WebAssembly.Memory({ initial: 1, maximum: 1 }))).toThrow(WebAssembly.LinkError);
  });
});
