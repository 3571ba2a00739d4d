/** One relayed tunnel while it lives. */
export interface Relay {
  tokenHash: string;
  /** The session (audit) row, once the proxy has redeemed the token. */
  sessionId: string | null;
  userId: string;
  proxyId: string;
  bytesUp: number;
  bytesDown: number;
  endReason: string | null;
  close(reason: string): void;
}

/** The live relays of this webapp process (admin "end session", shutdown, counts). */
export class LiveRelays {
  private readonly set = new Set<Relay>();
  add(r: Relay): void {
    this.set.add(r);
  }
  remove(r: Relay): void {
    this.set.delete(r);
  }
  all(): Relay[] {
    return [...this.set];
  }
  get size(): number {
    return this.set.size;
  }
}
