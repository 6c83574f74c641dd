import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliError } from './admin-client.ts';
import { alarmCommands, snoozeSeconds } from './alarm.ts';

describe('openiomt alarm snooze', () => {
  it('takes whole seconds and says what it expects otherwise', () => {
    expect(snoozeSeconds('120')).toBe(120);
    expect(snoozeSeconds(' 600 ')).toBe(600);
    for (const bad of ['abc', '', '0', '-5', '1.5', '10m', '1e3']) {
      expect(() => snoozeSeconds(bad)).toThrow(CliError);
      expect(() => snoozeSeconds(bad)).toThrow(
        `<seconds> must be a whole number of seconds, such as 120 for two minutes (at most 120 for a high alarm, 600 for a medium alarm, 1800 for a low alarm); got ${JSON.stringify(bad)}`,
      );
    }
  });

  it('shows the longest snooze of each priority in its help', () => {
    const program = new Command();
    alarmCommands(program);
    const snooze = program.commands
      .find((c) => c.name() === 'alarm')
      ?.commands.find((c) => c.name() === 'snooze');
    const help = snooze?.helpInformation() ?? '';
    expect(help).toContain('<seconds>');
    expect(help.replace(/\s+/g, ' ')).toContain(
      'at most 120 for a high alarm, 600 for a medium alarm, 1800 for a low alarm',
    );
  });
});
