import { existsSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { DeviceAdmin } from './admin/service.ts';
import { AlarmService } from './alarms/service.ts';
import { WaveformAnalysis } from './analysis/waveform-analysis.ts';
import { auditFiles, loadOrCreateAuditKey } from './audit/audit-files.ts';
import { AuditSequencer } from './audit/sequencer.ts';
import { InProcessBus } from './bus/bus.ts';
import { checkTransportSecurity, type PlatformConfig } from './config/config.ts';
import type { AccountAdmin } from './identity/accounts.ts';
import { DeviceRegistry } from './ingest/device-registry.ts';
import { Enrolment } from './ingest/enrolment.ts';
import { INTRUSION_DETECTOR, IntrusionWatch } from './ingest/intrusion.ts';
import { MESSAGE_FRAMING_BYTES } from './ingest/limits.ts';
import { MqttGateway } from './ingest/mqtt/index.ts';
import { mqttHooks } from './ingest/mqtt-hooks.ts';
import { IngestPipeline } from './ingest/pipeline.ts';
import { FailedLoginGuard } from './ingest/source-blocks.ts';
import { ListenError, listenOrExplain, readTlsFiles, refuseUnusablePorts } from './listen.ts';
import { TrendRecorder } from './live/index.ts';
import { createLogger, type Logger } from './log.ts';
import { WebhookDeliverer } from './notify/webhook-deliverer.ts';
import { enqueueWebhookDeliveries } from './notify/webhook-outbox.ts';
import { buildHttp } from './platform-http.ts';
import { ClinicalRules } from './rules/engine.ts';
import { ensureAdminCredential } from './security/admin-credential.ts';
import { MasterKeyError } from './security/keys/key-service.ts';
import { defaultMasterKeyPath } from './security/keys/master-key-file.ts';
import { openKeyService } from './security/keys/open-key-service.ts';
import { DatabaseConnectError } from './store/connect-error.ts';
import { holdDataDir } from './store/pglite-lock.ts';
import { openStore } from './store/store.ts';
import type { Store } from './store/types.ts';

export interface RunningPlatform {
  readonly config: PlatformConfig;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly store: Store;
  readonly bus: InProcessBus;
  readonly pipeline: IngestPipeline;
  /** Heart rate, HRV, rhythm, pulse and respiratory rate derived from the stored waveforms. */
  readonly analysis: WaveformAnalysis;
  readonly alarms: AlarmService;
  readonly rules: ClinicalRules;
  /** Minute buckets of vital signs and NEWS2 for the dashboard's charts (live/trend-recorder.ts). */
  readonly trends: TrendRecorder;
  readonly auditSequencer: AuditSequencer;
  readonly gateway: MqttGateway;
  readonly http: FastifyInstance;
  /** The administrator token when this start created it (first start only); print it once. */
  readonly firstAdminToken?: string;
  /** First start: the path of the one-time link where the `admin` account chooses its password. */
  readonly firstAdminSetupPath?: string;
  /** People's accounts (the demo makes its own). */
  readonly accounts: AccountAdmin;
  /** Stops accepting, finishes what is in flight, closes the database. */
  close(): Promise<void>;
}

export { ListenError };

interface StartOptions {
  logger?: Logger;
  store?: Store;
  /** How often open alarm and live streams re-check who may see what (default 15 s; tests shorten it). */
  streamRescopeMs?: number;
}

/**
 * Starts the whole platform in one process: store, ingest (MQTT and HTTPS), admin API. It holds its data
 * folder while it runs (store/pglite-lock.ts): a second platform on the same folder is refused.
 */
export async function startPlatform(
  config: PlatformConfig,
  options: StartOptions = {},
): Promise<RunningPlatform> {
  checkTransportSecurity(config);
  const tls = readTlsFiles(config);
  await refuseUnusablePorts(config);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const hold = holdDataDir(config.dataDir, (m) => new ListenError(m));
  try {
    const platform = await startHolding(config, options, tls);
    return { ...platform, close: () => platform.close().finally(() => hold.release()) };
  } catch (e) {
    hold.release();
    throw e;
  }
}

async function startHolding(
  config: PlatformConfig,
  options: StartOptions,
  tls: { cert: Buffer; key: Buffer } | undefined,
): Promise<RunningPlatform> {
  const log = options.logger ?? createLogger(config.logLevel);
  let store = options.store;
  if (!store) {
    // The master key that wraps every patient's data key (docs/privacy.md): <dataDir>/keys/master.key, made
    // at the first start, or --master-key-file; or Vault Transit (--key-service). The store refuses a database
    // another master key encrypted; a key file made by this start then goes again, not to pass for the key.
    const keyPath = defaultMasterKeyPath(config.dataDir);
    const createsKey =
      (config.keyService ?? 'file') === 'file' && !config.masterKeyFile && !existsSync(keyPath);
    const keys = await openKeyService(config);
    if (!config.databaseUrl) {
      // The embedded database holds patient data: only the platform's own user may read it. A data folder
      // the platform creates is private; the database folder inside it is made private in any case.
      await mkdir(`${config.dataDir}/pg`, { recursive: true, mode: 0o700 });
      await chmod(`${config.dataDir}/pg`, 0o700);
    }
    try {
      store = await openStore(
        // Embedded PGlite runs on its own thread so storage and ingest each get a core.
        config.databaseUrl
          ? { url: config.databaseUrl, keys, connectTimeoutMs: config.databaseConnectTimeoutS * 1000 }
          : { dataDir: `${config.dataDir}/pg`, pgliteThread: true, keys },
      );
    } catch (e) {
      if (createsKey && (e instanceof MasterKeyError || e instanceof DatabaseConnectError))
        await rm(keyPath, { force: true });
      throw e;
    }
  }
  await store.migrate();
  const firstAdminToken = await ensureAdminCredential(store);
  // The audit log's signed tree heads leave the database for a file (docs/audit.md).
  const auditPaths = auditFiles(config.dataDir);
  const auditSequencer = new AuditSequencer({
    db: store.db,
    key: await loadOrCreateAuditKey(auditPaths),
    treeHeadsFile: auditPaths.treeHeadsFile,
    log,
  }).start();

  const bus = new InProcessBus();
  // Trends are summed in memory from the bus and written every 15 s in chunks: they never hold ingest up.
  const trends = new TrendRecorder({ store, bus, log }).start();
  // Waveform analysis works off the bus, after storage: it never holds ingest up.
  const analysis = new WaveformAnalysis({ bus, store, log }).start();
  const registry = new DeviceRegistry(store);
  // The devices of the last hour reconnect first after a restart: they are loaded while the rest starts,
  // and known before the broker opens.
  // A failure only costs speed: the devices are then looked up as they log in.
  const warming = registry.warm(Date.now() - 3_600_000).catch((e: unknown) => {
    log.warn({ err: e }, 'device registry not warmed; devices are looked up as they connect');
    return 0;
  });
  const policy = {
    maxClockSkewS: config.maxClockSkewS,
    maxMessageAgeS: config.maxMessageAgeS,
    maxMessageBytes: config.maxMessageBytes,
  };
  const pipeline = new IngestPipeline(store, registry, policy, bus, log);
  // An address that keeps failing device logins is refused for a while (the device it names is untouched).
  const logins = new FailedLoginGuard({
    thresholds: { windowS: config.intrusionWindowS, authFailure: config.intrusionAuthFailureThreshold },
    blockS: config.intrusionBlockS,
    record: (b) =>
      store.securityEvents
        .add({
          kind: 'intrusion-detected',
          source: b.source,
          subsystem: INTRUSION_DETECTOR,
          detail: b.reason,
        })
        .then(() => {}),
    log,
  });
  const gateway = new MqttGateway({
    hooks: mqttHooks({ store, registry, pipeline, log, logins }),
    host: config.mqttHost,
    port: config.mqttPort,
    maxPacketBytes: config.maxMessageBytes + MESSAGE_FRAMING_BYTES,
    ...(tls ? { tls } : {}),
  });
  const devices = new DeviceAdmin(store, registry, bus, gateway);
  // Refusals ingest records as security events can quarantine the device that keeps causing them.
  const intrusion = new IntrusionWatch({
    store,
    devices,
    log,
    thresholds: {
      windowS: config.intrusionWindowS,
      forgery: config.intrusionForgeryThreshold,
      // Failed logins only claim a device: they block the address (logins above), never the device.
      authFailure: 0,
      replay: config.intrusionReplayThreshold,
      malformed: config.intrusionMalformedThreshold,
    },
  }).start();
  const enrolment = new Enrolment(store, registry, config.keyOverlapS);

  // Clinical intelligence: rules turn readings into condition events, the alarm service makes them alarms.
  const webhooks = new WebhookDeliverer(store, { logger: log });
  const alarms = new AlarmService(store, bus, {
    log,
    // Webhook deliveries are written in the transaction that records the notifications (outbox).
    onNotificationsInTx: async (tx, notifications, alarm) => {
      let enqueued = 0;
      for (const n of notifications) {
        const event = {
          id: n.id,
          type: 'alarm.notification' as const,
          patientId: n.patientId,
          at: new Date(n.at).toISOString(),
          data: { notification: n, alarm },
        };
        enqueued += await enqueueWebhookDeliveries(tx, event, new Date());
      }
      return enqueued;
    },
    afterNotify: () => webhooks.wake(),
  });
  await alarms.start();
  const rules = new ClinicalRules(store, bus, alarms, {
    log,
    devices: registry,
    reconnectGraceMs: config.reconnectGraceS * 1000,
  });
  await rules.start();

  let brokerListening = false;
  const { http, accounts, firstAdministrator, subscriptions, oauth } = await buildHttp({
    config,
    log,
    tls,
    streamRescopeMs: options.streamRescopeMs,
    store,
    bus,
    pipeline,
    enrolment,
    devices,
    alarms,
    rules,
    trends,
    webhooks,
    auditPaths,
    brokerListening: () => brokerListening,
    firstStart: firstAdminToken !== undefined,
  });

  const warmed = await warming;
  if (warmed > 0)
    log.info({ devices: warmed }, 'device registry warmed with the devices seen in the last hour');
  const mqtt = await listenOrExplain(
    () => gateway.listen(),
    config.mqttHost,
    config.mqttPort,
    '--mqtt-port',
  ).catch(async (e) => {
    await rules.close();
    await trends.close();
    await alarms.close();
    await auditSequencer.close();
    await store.close();
    throw e;
  });
  brokerListening = true;
  let httpAddress: string;
  try {
    httpAddress = await listenOrExplain(
      () => http.listen({ host: config.httpHost, port: config.httpPort }),
      config.httpHost,
      config.httpPort,
      '--http-port',
    );
  } catch (e) {
    await gateway.close();
    await rules.close();
    await trends.close();
    await alarms.close();
    await auditSequencer.close();
    await store.close();
    throw e;
  }
  // Devices can reach us from now: their silence counts from here, not from before the downtime.
  rules.receiving(Date.now());
  webhooks.start();
  subscriptions.start();
  const httpPort = new URL(httpAddress).port;
  const scheme = tls ? 'https' : 'http';
  const httpUrl = `${scheme}://${hostForUrl(config.httpHost)}:${httpPort}`;
  // Behind a proxy the listening address is not what clients see: tokens name the public one when configured.
  oauth.start(config.publicUrl !== undefined ? new URL(config.publicUrl).origin : httpUrl);
  let closing: Promise<void> | undefined;
  return {
    config,
    httpUrl,
    mqttUrl: `${tls ? 'mqtts' : 'mqtt'}://${hostForUrl(mqtt.host)}:${mqtt.port}`,
    store,
    bus,
    pipeline,
    analysis,
    alarms,
    rules,
    trends,
    auditSequencer,
    gateway,
    http,
    ...(firstAdminToken ? { firstAdminToken } : {}),
    ...(firstAdministrator ? { firstAdminSetupPath: firstAdministrator.setupPath } : {}),
    accounts,
    close() {
      closing ??= (async () => {
        await http.close();
        brokerListening = false;
        await gateway.close();
        await pipeline.drain();
        await intrusion.close();
        await analysis.close();
        await rules.close();
        // After the rules: their last NEWS2 changes are trend points too.
        await trends.close();
        await alarms.close();
        await webhooks.close();
        await subscriptions.close();
        await auditSequencer.close();
        await store.close();
      })();
      return closing;
    },
  };
}

const hostForUrl = (host: string): string => (host.includes(':') ? `[${host}]` : host);
