// The core's imports from the host: the only calls that go up.

/**
 * Called when an allocation from zone `zone` finds nothing. The host logs the
 * system's exhaustion message (rate-limited) and, if its profile's rule says
 * so, runs the protocol drain routines. Returns 1 if drain routines ran (the
 * core counts a drain call and retries once), 0 otherwise.
 */
// @ts-ignore: decorator
@external("host", "exhausted")
export declare function host_exhausted(zone: u32, how: i32): i32;
