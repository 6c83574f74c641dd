import { Command, CommanderError } from 'commander';
import { adminCommands } from './admin.ts';
import { CliError } from './admin-client.ts';
import { alarmCommands } from './alarm.ts';
import { auditCommands } from './audit.ts';
import { backupCommands } from './backup.ts';
import { careTeamCommands } from './care-team.ts';
import { deviceToolCommands } from './device-tools.ts';
import { markRequiredOptions } from './help.ts';
import { keysCommands } from './keys.ts';
import { oauthCommands } from './oauth.ts';
import { signalCommands } from './signal.ts';
import { simulateCommand } from './simulate.ts';
import { startCommand } from './start.ts';
import { userCommands } from './user.ts';
import { webhookCommands } from './webhook.ts';

// A reader that stops early (`openiomt ... | head`) closes the pipe: the rest of the output has nowhere to
// go, so the command ends quietly with exit 0, as Unix tools killed by SIGPIPE do from the shell's point of
// view (Node ignores SIGPIPE and reports EPIPE as an error on stdout instead). A command that registered a
// graceful stop for SIGTERM (`start`: the platform closes its database) stops that way rather than at once.
let stdoutClosed = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (stdoutClosed) return; // writes after the first EPIPE fail too; they are expected and dropped
  if (e.code !== 'EPIPE') throw e;
  stdoutClosed = true;
  if (process.listenerCount('SIGTERM') > 0) process.kill(process.pid, 'SIGTERM');
  else process.exit(0);
});

const program = new Command('openiomt')
  .description('OpenIoMT: signed medical device readings to FHIR R4, in real time')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

startCommand(program);
adminCommands(program);
careTeamCommands(program);
deviceToolCommands(program.commands.find((c) => c.name() === 'device') as Command);
simulateCommand(program);
signalCommands(program);
webhookCommands(program);
oauthCommands(program);
alarmCommands(program);
auditCommands(program);
backupCommands(program);
userCommands(program);
keysCommands(program);
markRequiredOptions(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (e instanceof CliError) {
    process.stderr.write(`openiomt: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
