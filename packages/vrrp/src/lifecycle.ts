/**
 * The lifecycle grammar in one place: start() resolves when running (a failed start undoes itself and leaves
 * the object as never started; start() while starting or running returns the same promise); stop() is
 * idempotent, safe while start() is in flight, and resolves once everything is released; any number of cycles.
 */
export class Lifecycle {
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly open: () => Promise<void>,
    /** undoes whatever `open` did, also a partial open; must tolerate being called after a failed open */
    private readonly release: () => Promise<void>,
  ) {}

  /** true from start() until stop() */
  get active(): boolean {
    return this.starting !== undefined;
  }

  start(): Promise<void> {
    this.starting ??= (async () => {
      await this.stopping;
      await this.open();
    })().catch(async (e: unknown) => {
      this.starting = undefined;
      await this.release();
      throw e;
    });
    return this.starting;
  }

  stop(): Promise<void> {
    const starting = this.starting;
    if (!starting) return this.stopping ?? Promise.resolve();
    this.starting = undefined;
    const stopping = starting
      .then(
        () => this.release(),
        () => undefined,
      )
      .finally(() => {
        if (this.stopping === stopping) this.stopping = undefined;
      });
    this.stopping = stopping;
    return stopping;
  }
}
