import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, checkTransportSecurity, DEFAULTS, loadConfig, SETTINGS } from './config.ts';
import { closestSetting } from './settings.ts';

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
    expect(() => loadConfig({ flags: { databaseConnectTimeoutS: '0' } })).toThrow(
      /--database-connect-timeout-s: must be between 1 and 600, got 0/,
    );
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

  it('refuses config file values of the wrong JSON type instead of coercing them', () => {
    const file = (o: object) => () => loadConfig({ fileText: JSON.stringify(o), fileName: 'c.json' });
    // Before: true became port 1, null and "" port 0 (a random port), false a 0-byte message limit.
    expect(file({ httpPort: true })).toThrow(
      'config file c.json key "httpPort": must be a whole number, got true',
    );
    expect(file({ httpPort: null })).toThrow(/"httpPort": must be a whole number, got null/);
    expect(file({ httpPort: '' })).toThrow(/"httpPort": must be a whole number/);
    expect(file({ httpPort: '8080' })).toThrow(/"httpPort": must be a whole number, got "8080"/);
    expect(file({ maxMessageBytes: false })).toThrow(/"maxMessageBytes": must be a whole number, got false/);
    expect(file({ insecure: 'true' })).toThrow(/"insecure": must be true or false/);
    expect(file({ httpPort: 8443, insecure: true })()).toMatchObject({ httpPort: 8443, insecure: true });
    // Flags and the environment are text: digits and true/false/1/0.
    expect(loadConfig({ env: { OPENIOMT_HTTP_PORT: '8081' }, flags: { mqttPort: '1884' } })).toMatchObject({
      httpPort: 8081,
      mqttPort: 1884,
    });
    expect(() => loadConfig({ env: { OPENIOMT_HTTP_PORT: '0x50' } })).toThrow(/^OPENIOMT_HTTP_PORT: /);
  });

  it('keeps limits within bounds that let readings through', () => {
    expect(() => loadConfig({ flags: { maxMessageBytes: '100' } })).toThrow(
      /--max-message-bytes: must be between 4096 and \d+, got 100/,
    );
    expect(() => loadConfig({ flags: { maxMessageBytes: String(1e9) } })).toThrow(/--max-message-bytes/);
    expect(() => loadConfig({ env: { OPENIOMT_MAX_MESSAGE_AGE_S: '10' } })).toThrow(
      /^OPENIOMT_MAX_MESSAGE_AGE_S: must be between 60 and/,
    );
    expect(() => loadConfig({ fileText: '{"maxClockSkewS": 0}' })).toThrow(
      /"maxClockSkewS": must be between 5/,
    );
    expect(loadConfig({ flags: { maxMessageBytes: '4096', maxMessageAgeS: '60' } }).maxMessageBytes).toBe(
      4096,
    );
  });

  it('names where a wrong value came from: flag, environment variable or config file key', () => {
    expect(() => loadConfig({ fileText: '{"logLevel": "loud"}', fileName: 'c.json' })).toThrow(
      /^config file c\.json key "logLevel": must be one of fatal, error/,
    );
    expect(() => loadConfig({ env: { OPENIOMT_LOG_LEVEL: 'loud' } })).toThrow(/^OPENIOMT_LOG_LEVEL: must be/);
    expect(() => loadConfig({ flags: { logLevel: 'loud' } })).toThrow(/^--log-level: must be/);
    expect(() => loadConfig({ env: { OPENIOMT_KEY_SERVICE: 'hsm' } })).toThrow(/^OPENIOMT_KEY_SERVICE: /);
    expect(() => loadConfig({ fileText: '{"publicUrl": "ftp://x"}' })).toThrow(
      /^config file key "publicUrl": /,
    );
    expect(() => checkTransportSecurity(loadConfig({ env: { OPENIOMT_HTTP_HOST: '0.0.0.0' } }))).toThrow(
      /^OPENIOMT_HTTP_HOST=0\.0\.0\.0 is not a loopback address/,
    );
    expect(() =>
      checkTransportSecurity(loadConfig({ fileText: '{"mqttHost": "10.0.0.1"}', fileName: 'c.json' })),
    ).toThrow(/^config file c\.json key "mqttHost" "10\.0\.0\.1" is not a loopback address/);
    expect(() => checkTransportSecurity(loadConfig({ env: { OPENIOMT_TLS_KEY: 'k.pem' } }))).toThrow(
      /together: only OPENIOMT_TLS_KEY is set/,
    );
    expect(() => loadConfig({ fileText: '{"keyService": "vault-transit"}' })).toThrow(
      /^config file key "keyService" vault-transit needs/,
    );
  });

  it('suggests the setting an unknown config file key most likely meant', () => {
    const unknown = (k: string) => () =>
      loadConfig({ fileText: JSON.stringify({ [k]: 1 }), fileName: 'c.json' });
    expect(unknown('http-port')).toThrow('unknown setting "http-port": did you mean "httpPort"?');
    expect(unknown('tlsCert')).toThrow('did you mean "tlsCertFile"?');
    expect(unknown('OPENIOMT_DATA_DIR')).toThrow('did you mean "dataDir"?');
    expect(unknown('maxMesageBytes')).toThrow('did you mean "maxMessageBytes"?');
    expect(unknown('colour')).toThrow(
      /unknown setting "colour"; the settings are httpHost, httpPort, .*logLevel/,
    );
    // Inherited names are no settings (they once reached the parser as one).
    expect(unknown('toString')).toThrow(ConfigError);
    expect(closestSetting('')).toBeUndefined();
  });

  it('reads OPENIOMT_DATABASE_URL and OPENIOMT_VAULT_ADDR, refusing two differing names for one setting', () => {
    const url = 'postgres://u@db.example/openiomt';
    expect(loadConfig({ env: { OPENIOMT_DATABASE_URL: url } }).databaseUrl).toBe(url);
    expect(loadConfig({ env: { OPENIOMT_DATABASE_URL: url, DATABASE_URL: url } }).databaseUrl).toBe(url);
    expect(() => loadConfig({ env: { OPENIOMT_DATABASE_URL: url, DATABASE_URL: `${url}2` } })).toThrow(
      'OPENIOMT_DATABASE_URL and DATABASE_URL are both set, to different values: unset one of them',
    );
    expect(loadConfig({ env: { OPENIOMT_VAULT_ADDR: 'https://vault:8200' } }).vaultAddr).toBe(
      'https://vault:8200',
    );
  });

  it('refuses a database URL that is not PostgreSQL or names no database, by its source, password masked', () => {
    expect(() => loadConfig({ env: { DATABASE_URL: 'mysql://x:secret@h/db' } })).toThrow(
      /^DATABASE_URL: "mysql:\/\/x:\*\*\*@h\/db" is not a PostgreSQL URL/,
    );
    expect(() => loadConfig({ flags: { databaseUrl: 'not a url' } })).toThrow(
      /^--database-url: .* is not a URL/,
    );
    expect(() => loadConfig({ fileText: '{"databaseUrl": "postgres://h:5432"}' })).toThrow(
      /^config file key "databaseUrl": "postgres:\/\/h:5432" names no database: add one/,
    );
    expect(loadConfig({ flags: { databaseUrl: 'postgresql://h/openiomt' } }).databaseUrl).toBe(
      'postgresql://h/openiomt',
    );
    expect(
      loadConfig({ flags: { databaseUrl: 'postgres:///openiomt?host=/run/postgresql' } }).databaseUrl,
    ).toBe('postgres:///openiomt?host=/run/postgresql');
  });

  // The config file is outside input: any JSON value for any setting is either taken, or refused by a
  // ConfigError that names the setting.
  it('takes or refuses, by name, any JSON value for each setting', () => {
    const keys = Object.keys(SETTINGS);
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.jsonValue(), (key, value) => {
        let config: ReturnType<typeof loadConfig>;
        try {
          config = loadConfig({ fileText: JSON.stringify({ [key]: value }) });
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          expect((e as Error).message).toContain(`"${key}"`);
          return;
        }
        const got = (config as unknown as Record<string, unknown>)[key];
        const type = SETTINGS[key as keyof typeof SETTINGS].type;
        if (type === 'port' || type === 'int') expect(Number.isSafeInteger(got)).toBe(true);
        else if (type === 'bool') expect(typeof got).toBe('boolean');
        else if (type === 'origins') expect(Array.isArray(got)).toBe(true);
        else expect(got).toEqual(expect.any(String));
      }),
      { numRuns: 2000 },
    );
  });

  it('never takes an unknown or inherited key from the config file', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (o) => {
        try {
          loadConfig({ fileText: JSON.stringify(o) });
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
        }
      }),
    );
  });
});
