// The @thi.ng/malloc peer: a published pool allocator over an ArrayBuffer,
// measured when the package is installed (it is a development dependency of
// mbufpool, not a runtime one), skipped and named otherwise.

import { isMissingPackage } from "../../errors.js";

/** The part of @thi.ng/malloc's MemPool the cases call. */
export interface MemPoolLike {
  malloc(bytes: number): number;
  free(ptr: number): boolean;
}

/** What a @thi.ng/malloc case says it needs when the package is missing. */
export const THING_NEEDS = "@thi.ng/malloc (npm install --save-dev @thi.ng/malloc)";

/** A 16 MiB MemPool, or null if @thi.ng/malloc is not installed. */
export async function loadThing(): Promise<MemPoolLike | null> {
  // A name in a variable: the package is looked up at run time, where it may be absent.
  const name = "@thi.ng/malloc";
  try {
    const { MemPool } = (await import(name)) as { MemPool: new (o: { size: number }) => MemPoolLike };
    return new MemPool({ size: 16 * 1024 * 1024 });
  } catch (e) {
    if (isMissingPackage(e, name)) return null;
    throw e;
  }
}
