/** A progress bar on a terminal for long CLI work; nothing when stderr is not a terminal (scripts, CI). */
import cliProgress from 'cli-progress';

/** Runs `run`, drawing `format` (cli-progress tokens: {bar} {value} {total}) as it reports progress. */
export async function withProgress<T>(
  format: string,
  run: (onProgress: (done: number, total: number) => void) => Promise<T>,
): Promise<T> {
  if (!process.stderr.isTTY) return run(() => {});
  const bar = new cliProgress.SingleBar(
    { format, hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  try {
    return await run((done, total) => {
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    });
  } finally {
    if (started) bar.stop();
  }
}
