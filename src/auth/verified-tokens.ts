// Access tokens this gateway signed and has verified once: their principal is kept until the token expires, so a
// client that sends the same token again is not checked with a signature verification each time. The signing key
// does not change while the process runs and tokens are not revoked before they expire, so the answer stays the same.
import type { Principal } from './access.js';

const MAX_ENTRIES = 10_000;

export class VerifiedTokens {
  private readonly entries = new Map<string, { principal: Principal; expiresAtMs: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The principal of a token verified before, while it has not expired. */
  get(token: string): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (this.now() >= entry.expiresAtMs) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  /** Keeps a verified token until `exp` (seconds since the epoch, as in the JWT); the oldest entry makes room. */
  set(token: string, principal: Principal, exp: number | undefined): void {
    if (exp === undefined) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { principal, expiresAtMs: exp * 1000 });
  }

  get size(): number {
    return this.entries.size;
  }
}
