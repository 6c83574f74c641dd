/**
 * The floor of the ingest benchmark: a stand-in for the platform that does only the work every design must
 * do for a signed reading, and nothing the platform adds (no device registry, sequence judgement, FHIR
 * index, database, analysis, rules or audit). Started by floor.bench.ts as
 *
 *   node --import tsx floor-server.ts '{"level":"durable","keysFile":"/tmp/k.json","dir":"/tmp/x","threads":1}'
 *
 * Levels, each adding to the one before:
 *   ack      MQTT 5 framing over TCP: CONNACK, PUBACK for every QoS 1 PUBLISH
 *   verify   + the platform's own verification stage (verify-pool.ts on worker threads: JWS parse, Ed25519
 *            verify, payload decode and schema check), PUBACK only for readings that pass
 *   durable  + the signed reading appended to a file, one fdatasync per group, PUBACK after it
 *
 * It prints one JSON line {mqttUrl, pid} when listening and exits on stdin `close`.
 */

import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { VerifyPool } from '../src/ingest/verify-pool.ts';
import { readFrame } from './mqtt-fleet.ts';

export type FloorLevel = 'ack' | 'verify' | 'durable';

export interface FloorOptions {
  readonly level: FloorLevel;
  /** JSON [{topic, x}]: each device's readings topic and its Ed25519 public key (JWK x). */
  readonly keysFile: string;
  /** Folder for the durable level's log file. */
  readonly dir: string;
  /** Verify worker threads (the platform uses 1 on a 2-core machine). */
  readonly threads: number;
}

const MAX_READING_BYTES = 256 * 1024;

/**
 * A connection's PUBACKs in the order its PUBLISHes came (MQTT 3.1.1 and 5, section 4.6), although two
 * verify threads may finish them out of order.
 */
class AckOrder {
  private readonly tickets: { messageId: number; ready: boolean }[] = [];
  private head = 0;

  constructor(private readonly socket: net.Socket) {}

  take(messageId: number): { messageId: number; ready: boolean } {
    const ticket = { messageId, ready: false };
    this.tickets.push(ticket);
    return ticket;
  }

  ready(ticket: { ready: boolean }): void {
    ticket.ready = true;
    while (this.head < this.tickets.length && this.tickets[this.head]!.ready)
      puback(this.socket, this.tickets[this.head++]!.messageId);
    if (this.head > 1024) {
      this.tickets.splice(0, this.head);
      this.head = 0;
    }
  }
}

interface Pending {
  readonly order: AckOrder;
  readonly ticket: { messageId: number; ready: boolean };
  readonly jws: Buffer;
}

/** Appends readings and acknowledges them after an fdatasync; what arrives meanwhile waits for the next one. */
class GroupLog {
  private waiting: Pending[] = [];
  private writing = false;

  constructor(private readonly file: Awaited<ReturnType<typeof open>>) {}

  add(p: Pending): void {
    this.waiting.push(p);
    if (!this.writing) void this.flush();
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      await this.file.writev(group.flatMap((p) => [p.jws, NEWLINE]));
      await this.file.datasync();
      for (const p of group) p.order.ready(p.ticket);
    }
    this.writing = false;
  }
}

const NEWLINE = Buffer.from('\n');

function puback(socket: net.Socket, messageId: number): void {
  // MQTT 5 PUBACK with reason 0 and no properties: remaining length 2 says success.
  if (!socket.destroyed) socket.write(Buffer.from([0x40, 2, messageId >> 8, messageId & 0xff]));
}

/** A variable byte integer at `at`: its value and the offset after it. */
function varint(buf: Buffer, at: number): { value: number; next: number } {
  let value = 0;
  let multiplier = 1;
  let i = at;
  for (;;) {
    const byte = buf[i++]!;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { value, next: i };
    multiplier *= 128;
  }
}

export async function startFloor(o: FloorOptions): Promise<{ server: net.Server; close(): Promise<void> }> {
  const keys = new Map<string, string>(
    (JSON.parse(readFileSync(o.keysFile, 'utf8')) as { topic: string; x: string }[]).map((k) => [
      k.topic,
      k.x,
    ]),
  );
  const pool = o.level === 'ack' ? undefined : new VerifyPool(o.threads);
  const file = o.level === 'durable' ? await open(join(o.dir, 'readings.log'), 'a') : undefined;
  const log = file ? new GroupLog(file) : undefined;

  const onPublish = (socket: net.Socket, order: AckOrder, flags: number, body: Buffer): void => {
    const topicLength = body.readUInt16BE(0);
    const topic = body.toString('latin1', 2, 2 + topicLength);
    let at = 2 + topicLength;
    const qos = (flags >> 1) & 3;
    const messageId = qos > 0 ? body.readUInt16BE(at) : 0;
    if (qos > 0) at += 2;
    const properties = varint(body, at); // MQTT 5: skipped, the floor needs none
    at = properties.next + properties.value;
    if (qos === 0) return;
    if (!pool) {
      puback(socket, messageId);
      return;
    }
    const key = keys.get(topic);
    if (key === undefined) return; // unknown device: never acknowledged, the step then fails loudly
    const jws = body.subarray(at);
    const ticket = order.take(messageId);
    void pool.check(jws.toString('latin1'), key, MAX_READING_BYTES).then((verdict) => {
      if (!verdict.ok) return; // a refused reading is never acknowledged: the benchmark counts it missing
      if (log) log.add({ order, ticket, jws });
      else order.ready(ticket);
    });
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const order = new AckOrder(socket);
    let pending = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        const f = readFrame(buf);
        if (!f) break;
        const type = buf[0]! >> 4;
        const body = buf.subarray(f.bodyStart, f.end);
        if (type === 1)
          socket.write(Buffer.from([0x20, 3, 0, 0, 0])); // CONNACK: accepted, no properties
        else if (type === 3) onPublish(socket, order, buf[0]! & 0x0f, body);
        else if (type === 12)
          socket.write(Buffer.from([0xd0, 0])); // PINGRESP
        else if (type === 14) socket.end();
        buf = buf.subarray(f.end);
      }
      // Keep a copy of a partial frame only: the rest of this chunk's memory is then free to go.
      pending = buf.length > 0 ? Buffer.from(buf) : Buffer.alloc(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool?.close();
      await file?.close();
    },
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const options = JSON.parse(process.argv[2] ?? '{}') as FloorOptions;
  const floor = await startFloor(options);
  const address = floor.server.address() as net.AddressInfo;
  process.stdout.write(
    `${JSON.stringify({ mqttUrl: `mqtt://127.0.0.1:${address.port}`, pid: process.pid })}\n`,
  );
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'close') void floor.close().then(() => process.exit(0));
  });
}
