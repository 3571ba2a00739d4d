/**
 * One lazily re-armed timer: fires its callback once at the deadline given to the latest arm(). Connections
 * keep a single timer for all their deadlines this way (data events only record timestamps; the callback
 * works out what is due and arms the next deadline). Unref'd: it never keeps the process alive.
 */
export class DeadlineTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly fire: () => void) {}

  /** Fires at `at` (epoch ms), replacing any earlier deadline; a non-finite `at` only disarms. */
  arm(at: number): void {
    this.disarm();
    if (!Number.isFinite(at)) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.fire();
      },
      Math.max(0, at - Date.now()),
    );
    this.timer.unref();
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
