import { ProgressSink } from './backends';

/** A sink that draws nothing: for JSON consumers, pipes and the cdk8s plugin. */
export const NO_PROGRESS: ProgressSink = { start: () => undefined, tick: () => undefined };

/**
 * Progress on a terminal: one line, `floe-secrets validate: <phase> 37/500`, redrawn in place
 * (carriage return and erase-line) at most every `intervalMs`, and erased by {@link finish} so
 * that the report starts on a clean line. Names of phases only: never a key, path or value.
 */
export class TerminalProgress implements ProgressSink {
  #phase = '';
  #done = 0;
  #total = 0;
  #drawnAt = 0;
  #drawn = false;

  public constructor(
    private readonly write: (text: string) => unknown,
    private readonly intervalMs = 100,
    private readonly now: () => number = Date.now,
  ) {}

  public start(phase: string, total: number): void {
    this.#phase = phase;
    this.#done = 0;
    this.#total = total;
    if (total > 0) this.draw(true);
  }

  public tick(): void {
    this.#done++;
    this.draw(this.#done === this.#total);
  }

  /** Erases the line, if anything was drawn. */
  public finish(): void {
    if (this.#drawn) this.write('\r\u001b[2K');
    this.#drawn = false;
  }

  private draw(force: boolean): void {
    const now = this.now();
    if (!force && now - this.#drawnAt < this.intervalMs) return;
    this.#drawnAt = now;
    this.#drawn = true;
    this.write(`\r\u001b[2Kfloe-secrets validate: checking ${this.#phase} ${this.#done}/${this.#total}`);
  }
}
