/**
 * The secure conversation with one patient (and their caregivers): oldest at the top, older pages on
 * demand, new messages fetched every 15 s, the patient's messages marked read once shown, and a composer.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, type Me, post, query } from '../api.ts';
import { asApiError, useAction } from '../ui/async.ts';
import { ErrorNotice, Loading, Time } from '../ui/kit.tsx';
import { type Message, type MessagePage, mergeMessages } from './messages-model.ts';

const PAGE = 50;
const POLL_MS = 15_000;

export function Conversation({
  patientId,
  patientName,
  me,
  onRead,
}: {
  patientId: string;
  patientName: string;
  me: Me;
  onRead?: () => void;
}) {
  const base = `/api/v1/patients/${encodeURIComponent(patientId)}/messages`;
  const [messages, setMessages] = useState<Message[]>([]);
  const [older, setOlder] = useState<string | undefined>();
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<ReturnType<typeof asApiError>>();
  const [draft, setDraft] = useState('');
  const marking = useRef(new Set<string>());
  /** The cursor to older messages is set by the first page only; later polls must not move it back. */
  const olderSet = useRef(false);
  const list = useRef<HTMLOListElement>(null);

  const fetchNewest = async () => {
    try {
      const page = await get<MessagePage>(`${base}${query({ limit: PAGE })}`);
      setMessages((m) => mergeMessages(m, page.items));
      if (!olderSet.current) {
        olderSet.current = true;
        setOlder(page.next);
      }
      setLoaded(true);
      setError(undefined);
    } catch (e) {
      setError(asApiError(e));
    }
  };

  useEffect(() => {
    void fetchNewest();
    const t = setInterval(() => void fetchNewest(), POLL_MS);
    return () => clearInterval(t);
  }, [base]);

  // What others wrote and I now see is marked read (once each).
  useEffect(() => {
    const unread = messages.filter(
      (m) => m.sender.userId !== me.userId && !m.readAt && !marking.current.has(m.id),
    );
    if (unread.length === 0) return;
    for (const m of unread) marking.current.add(m.id);
    void Promise.all(
      unread.map((m) =>
        post(`${base}/${encodeURIComponent(m.id)}/read`).then(
          () => m.id,
          () => undefined,
        ),
      ),
    ).then((ids) => {
      const done = new Set(ids.filter((id): id is string => id !== undefined));
      if (done.size === 0) return;
      const at = new Date().toISOString();
      setMessages((ms) => ms.map((m) => (done.has(m.id) && !m.readAt ? { ...m, readAt: at } : m)));
      onRead?.();
    });
  }, [messages, base, me.userId, onRead]);

  // Keep the newest message in view as messages arrive (unless reading older ones).
  const count = messages.length;
  useEffect(() => {
    const el = list.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 120) el.scrollTop = el.scrollHeight;
  }, [count]);

  const loadOlder = useAction(async () => {
    if (!older) return;
    const page = await get<MessagePage>(`${base}${query({ before: older, limit: PAGE })}`);
    setMessages((m) => mergeMessages(page.items, m));
    setOlder(page.next);
  });

  const send = useAction(async () => {
    const body = draft.trim();
    if (!body) return;
    const sent = await post<Message>(base, { body });
    setDraft('');
    if (sent?.id) setMessages((m) => mergeMessages(m, [sent]));
    else await fetchNewest();
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  });

  return (
    <div class="conversation">
      <ErrorNotice error={error} />
      {!loaded && !error ? <Loading what="the messages" /> : null}
      {older ? (
        <button
          type="button"
          class="link-button"
          disabled={loadOlder.busy}
          onClick={() => void loadOlder.run()}
        >
          Load older messages
        </button>
      ) : null}
      <ErrorNotice error={loadOlder.error} />
      {loaded && messages.length === 0 ? <p class="empty">No messages with {patientName} yet.</p> : null}
      <ol
        class="msg-list"
        ref={list}
        aria-label={`Messages with ${patientName}`}
        aria-live="polite"
        aria-relevant="additions"
      >
        {messages.map((m) => {
          const mine = m.sender.userId === me.userId;
          return (
            <li
              key={m.id}
              class={`msg ${mine ? 'msg-mine' : 'msg-theirs'}`}
              data-testid="message"
              data-message-id={m.id}
            >
              <p class="msg-meta">
                <strong>{mine ? 'You' : (m.sender.displayName ?? m.sender.userId)}</strong>{' '}
                <span class="muted">({m.sender.role})</span> <Time at={m.sentAt} />
                {mine && m.readAt ? (
                  <span class="muted">
                    {' '}
                    · read <Time at={m.readAt} />
                  </span>
                ) : null}
              </p>
              <p class="msg-body">{m.body}</p>
            </li>
          );
        })}
      </ol>
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void send.run();
        }}
      >
        <ErrorNotice error={send.error} />
        <div class="field">
          <label for={`compose-${patientId}`}>Message to {patientName}</label>
          <textarea
            id={`compose-${patientId}`}
            rows={3}
            maxLength={4000}
            value={draft}
            onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              // Ctrl/Cmd+Enter sends; Enter alone is a new line.
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                e.preventDefault();
                void send.run();
              }
            }}
          />
          <p class="hint">Ctrl+Enter sends. Not for emergencies: the patient may not read it at once.</p>
        </div>
        <button type="submit" class="primary" disabled={send.busy || !draft.trim()}>
          {send.busy ? 'Sending…' : 'Send'}
        </button>
      </form>
    </div>
  );
}
