import type { Command } from 'commander';
import { CliError } from './admin-client.ts';

/** `openiomt signal ...`: the signal analysis on recordings (WFDB records). */
export function signalCommands(program: Command): void {
  const signal = program.command('signal').description('analyse recordings (WFDB records)');
  signal
    .command('qrs <record>')
    .description(
      'detect QRS complexes; prints beat sample indices, one per line (record path without extension)',
    )
    .action(async (record: string) => {
      const { qrsCommand } = await import('@openiomt/signal/cli');
      let beats: number[];
      try {
        beats = await qrsCommand(record);
      } catch (e) {
        throw new CliError(`cannot analyse ${record}: ${(e as Error).message}`);
      }
      process.stdout.write(beats.length ? `${beats.join('\n')}\n` : '');
    });
}
