import type { Command } from 'commander';
import { CliError } from './admin-client.ts';

/** `openiomt signal ...`: the signal analysis on recordings (WFDB records). */
export function signalCommands(program: Command): void {
  const signal = program.command('signal').description('analyse recordings (WFDB records)');
  signal
    .command('qrs <record>')
    .description('detect QRS complexes; prints beat sample indices, one per line')
    .addHelpText(
      'after',
      [
        '',
        '<record> is the record path without extension: …/mitdb/101 reads 101.hea and the signal file it',
        'names (101.dat). The ECG leads are found by their units (mV, µV), rate (50 Hz or more) and names',
        '(not PLETH, RESP, ABP, ...) and fused; a record with none is refused, listing its signals (choose',
        'one with --signal). A signal file holding fewer samples than its header declares is analysed as far',
        'as it goes, with a warning on stderr.',
      ].join('\n'),
    )
    .option(
      '--signal <n|name>',
      'analyse this one signal (number from 0, or name such as MLII) instead of the ECG leads found',
    )
    .action(async (record: string, o: { signal?: string }) => {
      if (record.trim() === '')
        throw new CliError(
          'signal qrs needs a record: give the record path without extension, e.g. …/mitdb/101 (reads 101.hea and 101.dat)',
        );
      const { qrsCommand, NoEcgSignalError, WfdbFileError, WfdbHeaderError } = await import(
        '@openiomt/signal/cli'
      );
      let result: Awaited<ReturnType<typeof qrsCommand>>;
      try {
        result = await qrsCommand(record, o.signal === undefined ? {} : { signal: o.signal });
      } catch (e) {
        // These say what is missing or wrong and what to give instead; anything else needs the context.
        const selfExplaining =
          e instanceof WfdbFileError || e instanceof WfdbHeaderError || e instanceof NoEcgSignalError;
        throw new CliError(selfExplaining ? e.message : `cannot analyse ${record}: ${(e as Error).message}`);
      }
      for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(result.beats.length ? `${result.beats.join('\n')}\n` : '');
    });
}
