// A parking slot: where a connection's waiters wait without a listener each.
//
// `for await` over a connection and `await conn.drained()` run once per chain
// or per blocked write; an EventEmitter listener added and removed each time
// showed in the request/response profile. A slot keeps the waiters' resolve
// functions instead (one, or a closure that calls them in order when a second
// parks), and the event that ends the wait calls them all at once.

export class ParkingSlot {
  private waiters: (() => void) | null = null;

  /** Parks `res` until the next wake(); pass it to `new Promise` (it is bound once, no closure per wait). */
  readonly park = (res: () => void): void => {
    const before = this.waiters;
    this.waiters = before === null ? res : () => { before(); res(); };
  };

  /** Wakes every waiter parked since the last wake, in the order they parked. */
  wake(): void {
    const w = this.waiters;
    if (w === null) return;
    this.waiters = null;
    w();
  }
}
