/**
 * A dashboard's view of the platform's live alarm stream (`GET /api/v1/alarms/stream` as a WebSocket):
 * every message is handed on with its arrival time on this process's clock. Opening resolves once the
 * first message (the snapshot of open alarms) has arrived, so nothing published after that is missed.
 */
import WebSocket from 'ws';

/** The parts of a stream message the benchmark reads. */
export interface StreamMessage {
  readonly type: string;
  readonly alarm?: { readonly patientId: string; readonly condition: string };
  readonly transitions?: readonly { readonly event: string; readonly reason: string }[];
  readonly alarms?: readonly unknown[];
}

export class AlarmStreamClient {
  /** How the server closed the stream, if it did (1013: the client was too slow). */
  closed: { code: number; reason: string } | undefined;
  messages = 0;

  private constructor(private readonly socket: WebSocket) {}

  static open(
    httpUrl: string,
    adminToken: string,
    patients: readonly string[] | undefined,
    onMessage: (m: StreamMessage, at: number) => void,
  ): Promise<AlarmStreamClient> {
    const query = patients ? `?patient=${patients.map(encodeURIComponent).join(',')}` : '';
    const socket = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/api/v1/alarms/stream${query}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const client = new AlarmStreamClient(socket);
    return new Promise((resolve, reject) => {
      socket.on('message', (data) => {
        const at = performance.now();
        client.messages++;
        const m = JSON.parse(String(data)) as StreamMessage;
        if (m.type === 'snapshot') resolve(client);
        else onMessage(m, at);
      });
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`alarm stream refused: HTTP ${res.statusCode}`)),
      );
      socket.on('close', (code, reason) => {
        client.closed = { code, reason: reason.toString() };
        reject(new Error(`alarm stream closed before its snapshot: ${code}`));
      });
    });
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.close(1000);
  }
}
