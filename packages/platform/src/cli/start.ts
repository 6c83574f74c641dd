import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, loadConfig, settingSource, settingsHelp } from '../config/config.ts';
import { ListenError } from '../listen.ts';
import { MasterKeyError } from '../security/keys/key-service.ts';
import { DatabaseConnectError } from '../store/connect-error.ts';
import { CliError } from './admin-client.ts';
import { shownUrls, startBanner } from './banner.ts';

/** `openiomt start`: the whole platform in one process (embedded mode unless a PostgreSQL URL is given). */
export function startCommand(program: Command): void {
  program
    .command('start')
    .description('run the platform: HTTP API, MQTT broker, ingest and storage in one process')
    .option('--http-host <host>', 'HTTP listen address (non-loopback needs TLS)')
    .option('--http-port <port>', 'HTTP port (default 8080; 0 picks a free port)')
    .option('--mqtt-host <host>', 'MQTT listen address (non-loopback needs TLS)')
    .option('--mqtt-port <port>', 'MQTT port (default 1883; 0 picks a free port)')
    .option('--data-dir <dir>', 'embedded database and state (default ./data)')
    .option('--database-url <url>', 'PostgreSQL server instead of the embedded database (or DATABASE_URL)')
    .option(
      '--database-connect-timeout-s <seconds>',
      'how long the PostgreSQL server may take to answer the first connection at start (default 10)',
    )
    .option('--tls-cert <file>', 'PEM certificate for HTTPS and MQTT over TLS')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option(
      '--master-key-file <file>',
      'master key that encrypts patient identities (default <data-dir>/keys/master.key, created at first start)',
    )
    .option('--key-service <kind>', 'where the master key lives: file (default) or vault-transit')
    .option(
      '--vault-addr <url>',
      'Vault address for --key-service vault-transit (or VAULT_ADDR; token: VAULT_TOKEN)',
    )
    .option('--vault-key <name>', 'the Transit key for --key-service vault-transit')
    .option(
      '--public-url <url>',
      'the public https address people open (names the passkey relying party; needed behind a proxy)',
    )
    .option(
      '--cors-origin <origin>',
      "an origin (https://host[:port]) whose browser apps may call the FHIR API, besides the OAuth clients' redirect URIs (repeatable; or OPENIOMT_CORS_ORIGINS, comma-separated)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--insecure', 'allow plaintext listeners on non-loopback addresses (not for patient data)')
    .option('--demo', 'also provision demo patients and devices that stream real recordings')
    .option('--max-clock-skew-s <seconds>', 'how far in the future a reading ts may be (default 300)')
    .option(
      '--max-message-age-s <seconds>',
      'how old a reading may be: the store-and-forward horizon (default 604800, 7 days)',
    )
    .option('--max-message-bytes <bytes>', 'largest signed message accepted (default 262144)')
    .option('--key-overlap-s <seconds>', 'how long a rotated-out device key stays valid (default 86400)')
    .option(
      '--reconnect-grace-s <seconds>',
      'after a start, how long devices have to reconnect before their silence raises device-offline (default 45)',
    )
    .option('--intrusion-window-s <seconds>', 'intrusion detection window (default 60; 0 turns it off)')
    .option(
      '--intrusion-forgery-threshold <n>',
      'quarantine a device after n forged messages or ACL violations in the window (default 5; 0 off)',
    )
    .option(
      '--intrusion-auth-failure-threshold <n>',
      'refuse MQTT connections from an address after n failed device logins in the window (default 20; 0 off)',
    )
    .option('--intrusion-block-s <seconds>', 'how long such an address is refused (default 900)')
    .option('--intrusion-replay-threshold <n>', 'after n replayed messages in the window (default 0: off)')
    .option('--intrusion-malformed-threshold <n>', 'after n malformed packets in the window (default 0: off)')
    .option('--config <file>', 'JSON file of settings (flags and environment override it)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or silent')
    .addHelpText('after', `\n${settingsHelp()}`)
    .action(async (opts: Record<string, unknown>) => {
      const { config: configFile, tlsCert, tlsKey, corsOrigin, ...rest } = opts;
      let fileText: string | undefined;
      if (typeof configFile === 'string') {
        try {
          fileText = readFileSync(configFile, 'utf8');
        } catch (e) {
          throw new CliError(`cannot read --config ${configFile}: ${(e as Error).message}`);
        }
      }
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig({
          flags: { ...rest, tlsCertFile: tlsCert, tlsKeyFile: tlsKey, corsOrigins: corsOrigin },
          env: process.env,
          ...(fileText !== undefined ? { fileText, fileName: configFile as string } : {}),
        });
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(e.message);
        throw e;
      }
      // Loaded here, not at the top: oidc-provider (under platform.ts) warns on every Node but 22 as it loads,
      // and no other command needs it.
      const { startPlatform } = await import('../platform.ts');
      const platform = await startPlatform(config).catch((e) => {
        if (e instanceof ListenError || e instanceof ConfigError || e instanceof MasterKeyError)
          throw new CliError(e.message);
        if (e instanceof DatabaseConnectError)
          throw new CliError(e.explain(settingSource(config, 'databaseUrl')));
        throw e;
      });
      const out = process.stdout;
      let demo: { stop(): Promise<void> } | undefined;
      const stop = async (signal: string) => {
        out.write(`\n${signal}: finishing what is in flight, then stopping\n`);
        await demo?.stop();
        await platform.close();
        process.exit(0);
      };
      // Before the banner: whoever reads it may stop the platform at once.
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      // One write, so whoever reads the banner (a script, a test) sees it whole, token included.
      const banner = startBanner(platform);
      const links = shownUrls(platform).http;
      out.write(`${banner.join('\n')}\n`);
      if (config.demo) {
        const { startDemo } = await import('../simulate/demo.ts');
        const started = await startDemo(platform);
        demo = started;
        out.write('Demo: simulated patients are streaming real recordings\n');
        for (const p of started.people)
          out.write(`  ${p.role} "${p.username}" chooses a password at ${links}${p.setupPath}\n`);
      }
    });
}
