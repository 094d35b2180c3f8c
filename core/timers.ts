/**
 * The engine's single timer table. Each named timer holds an absolute deadline on the embedder's
 * monotonic millisecond clock; the adapter arms one OS timer for {@link TimerTable.next} and calls
 * `handleTimeout(now)` when it fires. Core never reads a clock.
 */
export type TimerName = 'rekey' | 'loginGrace' | 'handshake' | 'keepalive';

export class TimerTable {
  private readonly deadlines = new Map<TimerName, number>();

  set(name: TimerName, deadline: number): void {
    this.deadlines.set(name, deadline);
  }

  clear(name: TimerName): void {
    this.deadlines.delete(name);
  }

  clearAll(): void {
    this.deadlines.clear();
  }

  get(name: TimerName): number | undefined {
    return this.deadlines.get(name);
  }

  /** The earliest deadline, or null when no timer is armed. */
  next(): number | null {
    let min: number | null = null;
    for (const d of this.deadlines.values()) if (min === null || d < min) min = d;
    return min;
  }

  /** Remove and return the timers due at `now`, earliest first. */
  takeExpired(now: number): TimerName[] {
    const due = [...this.deadlines].filter(([, d]) => d <= now).sort((a, b) => a[1] - b[1]);
    for (const [name] of due) this.deadlines.delete(name);
    return due.map(([name]) => name);
  }
}
