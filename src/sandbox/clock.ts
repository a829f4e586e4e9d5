// The sandbox's clock override: decisions taken as if it were another moment (age-boundary tests), time still moving.

export class SandboxClock {
  private offsetMs = 0;

  /** The moment decisions are taken at. */
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** From now on the clock reads `at`, and runs on from there. */
  set(at: Date): void {
    this.offsetMs = at.getTime() - Date.now();
  }

  reset(): void {
    this.offsetMs = 0;
  }

  get overridden(): boolean {
    return this.offsetMs !== 0;
  }
}
