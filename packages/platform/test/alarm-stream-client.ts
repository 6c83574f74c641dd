/** A test client of the alarm WebSocket stream: collects messages and waits for one matching a test. */
import WebSocket from 'ws';

/** A WebSocket client that collects messages and can wait for one matching a test. */
export async function openAlarmStream(httpUrl: string, token: string, query = '') {
  const url = `${httpUrl.replace('http', 'ws')}/api/v1/alarms/stream${query}`;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const messages: any[] = [];
  const waiters: { test: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    messages.push(m);
    for (const w of [...waiters]) {
      if (w.test(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  // The platform may be killed under the stream (restart tests): a dropped connection is expected.
  ws.on('error', () => undefined);
  return {
    messages,
    next(test: (m: any) => boolean, timeoutMs = 5000): Promise<any> {
      const seen = messages.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching stream message in time')), timeoutMs);
        waiters.push({
          test,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
    close: () => ws.close(),
  };
}

export const isAlarm = (condition: string, state?: string) => (m: any) =>
  m.type === 'alarm' && m.alarm.condition === condition && (state === undefined || m.alarm.state === state);
