// A peer for the benchmarks, not part of mbufpool: the AssemblyScript
// runtime's own allocator (TLSF, runtime "minimal") behind heap.alloc and
// heap.free, exported as raw functions so that JS calls it the way the Pool
// calls the core: one call per operation, no loader wrapper.

/** heap.alloc(size): a block of `size` bytes. */
export function alloc(size: i32): i32 {
  return <i32>heap.alloc(<usize>size);
}

/** heap.free(p). */
export function free(p: i32): void {
  heap.free(<usize>p);
}

/** `n` alloc+free pairs of `size` bytes inside Wasm (the bulk form). */
export function pairs(size: i32, n: i32): void {
  for (let i = 0; i < n; i++) heap.free(heap.alloc(<usize>size));
}
