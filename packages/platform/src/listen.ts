/**
 * Opening the platform's listeners, with errors that name the flag to change. The ports are also tried before
 * anything else starts: a first start that failed on a taken port would otherwise already have made (and
 * never shown) the administrator credential.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { PlatformConfig } from './config/config.ts';

export class ListenError extends Error {
  override name = 'ListenError';
}

export async function listenOrExplain<T>(
  listen: () => Promise<T>,
  host: string,
  port: number,
  flag: string,
): Promise<T> {
  try {
    return await listen();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE')
      throw new ListenError(
        `${host}:${port} is already in use: choose another with ${flag} (0 picks a free port)`,
      );
    if (code === 'EACCES')
      throw new ListenError(`not allowed to listen on ${host}:${port}: choose another with ${flag}`);
    if (code === 'EADDRNOTAVAIL')
      throw new ListenError(`${host} is not an address of this machine (${flag})`);
    throw e;
  }
}

/** Listens on host:port and lets go at once; port 0 (any free port) cannot be taken. */
function tryPort(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Throws a ListenError naming the flag when the MQTT or HTTP port cannot be listened on. */
export async function refuseUnusablePorts(config: PlatformConfig): Promise<void> {
  await listenOrExplain(
    () => tryPort(config.mqttHost, config.mqttPort),
    config.mqttHost,
    config.mqttPort,
    '--mqtt-port',
  );
  await listenOrExplain(
    () => tryPort(config.httpHost, config.httpPort),
    config.httpHost,
    config.httpPort,
    '--http-port',
  );
}

/** The certificate and key files, read now so that a wrong path is an error naming its flag. */
export function readTlsFiles(config: PlatformConfig): { cert: Buffer; key: Buffer } | undefined {
  if (!config.tlsCertFile || !config.tlsKeyFile) return undefined;
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new ListenError(
        `cannot read ${file} (${flag}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  };
  return { cert: read(config.tlsCertFile, '--tls-cert'), key: read(config.tlsKeyFile, '--tls-key') };
}
