import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, checkTransportSecurity, DEFAULTS, loadConfig } from './config.ts';

describe('platform configuration', () => {
  it('defaults to embedded mode on loopback', () => {
    const c = loadConfig({});
    expect(c).toEqual(DEFAULTS);
    expect(() => checkTransportSecurity(c)).not.toThrow();
  });

  it('takes flags over environment over the config file', () => {
    const c = loadConfig({
      fileText: JSON.stringify({ httpPort: 9000, mqttPort: 9001, dataDir: '/file' }),
      env: { OPENIOMT_HTTP_PORT: '9100', OPENIOMT_DATA_DIR: '/env', DATABASE_URL: 'postgres://x/y' },
      flags: { httpPort: '9200' },
    });
    expect(c.httpPort).toBe(9200);
    expect(c.mqttPort).toBe(9001);
    expect(c.dataDir).toBe('/env');
    expect(c.databaseUrl).toBe('postgres://x/y');
  });

  it('names the flag when a value is wrong', () => {
    expect(() => loadConfig({ flags: { httpPort: '80a' } })).toThrow(/--http-port/);
    expect(() => loadConfig({ flags: { mqttPort: 70000 } })).toThrow(/--mqtt-port: must be a port/);
    expect(() => loadConfig({ env: { OPENIOMT_INSECURE: 'maybe' } })).toThrow(/OPENIOMT_INSECURE/);
    expect(() => loadConfig({ fileText: '{"httpPort": 1, "colour": "red"}', fileName: 'x.json' })).toThrow(
      /unknown setting "colour"/,
    );
    expect(() => loadConfig({ fileText: '{oops' })).toThrow(ConfigError);
  });

  it('requires TLS on a non-loopback listener unless --insecure', () => {
    expect(() => checkTransportSecurity(loadConfig({ flags: { httpHost: '0.0.0.0' } }))).toThrow(
      /--http-host 0.0.0.0.*--tls-cert/,
    );
    expect(() => checkTransportSecurity(loadConfig({ flags: { mqttHost: '10.1.2.3' } }))).toThrow(
      /--mqtt-host/,
    );
    expect(() =>
      checkTransportSecurity(
        loadConfig({
          flags: { httpHost: '0.0.0.0', mqttHost: '0.0.0.0', tlsCertFile: 'c', tlsKeyFile: 'k' },
        }),
      ),
    ).not.toThrow();
    expect(() =>
      checkTransportSecurity(loadConfig({ flags: { httpHost: '0.0.0.0', insecure: true } })),
    ).not.toThrow();
    expect(() => checkTransportSecurity(loadConfig({ flags: { tlsCertFile: 'c' } }))).toThrow(/together/);
    for (const host of ['127.0.0.1', '127.8.9.10', '::1', 'localhost'])
      expect(() => checkTransportSecurity(loadConfig({ flags: { httpHost: host } }))).not.toThrow();
  });

  it('never throws anything but a ConfigError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string(), fc.dictionary(fc.string(), fc.string()), (fileText, env) => {
        try {
          loadConfig({ fileText, env });
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
        }
      }),
    );
  });
});
