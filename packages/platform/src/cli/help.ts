import type { Command } from 'commander';

/** Commander's help does not say which options are required: each such option's text says so. */
export function markRequiredOptions(command: Command): void {
  for (const option of command.options)
    if (option.mandatory && !option.description.endsWith('(required)'))
      option.description = `${option.description} (required)`.trim();
  for (const sub of command.commands) markRequiredOptions(sub);
}
