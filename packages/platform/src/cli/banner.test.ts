import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.ts';
import { startBanner } from './banner.ts';

const running = (flags: Record<string, unknown>, httpUrl: string, mqttUrl: string) => ({
  config: loadConfig({ flags: { tlsCertFile: 'c.pem', tlsKeyFile: 'k.pem', ...flags } }),
  httpUrl,
  mqttUrl,
  firstAdminToken: 'oiat_x',
  firstAdminSetupPath: '/setup#t',
});

describe('the start banner', () => {
  it('on a wildcard address links to this machine by name and says to pass --public-url', () => {
    const text = startBanner(
      running({ httpHost: '0.0.0.0', mqttHost: '::' }, 'https://0.0.0.0:8443', 'mqtts://[::]:8883'),
      'ward7-server',
    ).join('\n');
    expect(text).not.toMatch(/0\.0\.0\.0|\[::\]/);
    expect(text).toContain('HTTP  https://ward7-server:8443   (health: https://ward7-server:8443/healthz)');
    expect(text).toContain('MQTT  mqtts://ward7-server:8883');
    expect(text).toContain('  https://ward7-server:8443/setup#t');
    expect(text).toContain('pass --public-url with the address people use');
  });

  it('with --public-url links to it', () => {
    const text = startBanner(
      running(
        { httpHost: '0.0.0.0', mqttHost: '0.0.0.0', publicUrl: 'https://iomt.example.org' },
        'https://0.0.0.0:8443',
        'mqtts://0.0.0.0:8883',
      ),
      'ward7-server',
    ).join('\n');
    expect(text).toContain('HTTP  https://iomt.example.org   (health: https://iomt.example.org/healthz)');
    expect(text).toContain('MQTT  mqtts://iomt.example.org:8883');
    expect(text).toContain('  https://iomt.example.org/setup#t');
    expect(text).not.toContain('--public-url');
  });

  it('on loopback is as it was', () => {
    const lines = startBanner(
      { ...running({}, 'http://127.0.0.1:8080', 'mqtt://127.0.0.1:1883'), config: loadConfig({}) },
      'ward7-server',
    );
    expect(lines.slice(0, 3)).toEqual([
      'OpenIoMT is running (embedded database in ./data)',
      '  HTTP  http://127.0.0.1:8080   (health: http://127.0.0.1:8080/healthz)',
      '  MQTT  mqtt://127.0.0.1:1883',
    ]);
    expect(lines).toContain('  http://127.0.0.1:8080/setup#t');
  });
});
