import { TerminalProgress } from '../src/validate/progress';

describe('TerminalProgress', () => {
  test('redraws at most once per interval, always the end of a phase, and erases its line on finish', () => {
    // GIVEN a progress line on a fake terminal and a fake clock
    const written: string[] = [];
    let now = 1_000;
    const progress = new TerminalProgress((text) => written.push(text), 100, () => now);

    // WHEN a phase of 5 steps ticks 4 times within 100 ms, then once more after it
    progress.start('Secrets in the cluster', 5);
    for (let i = 0; i < 4; i++) {
      now += 10;
      progress.tick();
    }
    now += 100;
    progress.tick();
    progress.finish();

    // THEN the start, the end and the erase are drawn; the ticks in between are not
    expect(written).toEqual([
      '\r\u001b[2Kfloe-secrets validate: checking Secrets in the cluster 0/5',
      '\r\u001b[2Kfloe-secrets validate: checking Secrets in the cluster 5/5',
      '\r\u001b[2K',
    ]);
  });

  test('an empty phase draws nothing, and finish erases nothing that was not drawn', () => {
    const written: string[] = [];
    const progress = new TerminalProgress((text) => written.push(text));
    progress.start('operator CRDs', 0);
    progress.finish();
    expect(written).toEqual([]);
  });
});
