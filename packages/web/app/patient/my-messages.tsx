/**
 * `#/my-messages`: the conversation with the care team, oldest at the top, with older pages on demand and
 * new messages fetched every 30 seconds while the page is visible. Messages from others are marked read
 * when shown.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, get, type Me, post, query } from '../api.ts';
import { asApiError, useAction } from '../ui/async.ts';
import { TextArea } from '../ui/fields.tsx';
import { ErrorNotice, Loading, Page, Time } from '../ui/kit.tsx';
import {
  checkMessage,
  fromCareTeam,
  MAX_MESSAGE_LENGTH,
  type Message,
  type MessagePage,
  mergeMessages,
  senderLabel,
  unreadFromCareTeam,
} from './messages.ts';
import { PatientPicker, usePatientChoice } from './people.tsx';

const PAGE = 50;
const POLL_MS = 30_000;

export function MyMessages({ me }: { me: Me }) {
  const choice = usePatientChoice(me);
  const patient = choice.chosen;
  return (
    <Page title={patient && !patient.self ? `Messages about ${patient.label}` : 'Messages'}>
      <PatientPicker me={me} choice={choice} />
      <p class="notice notice-info">
        Messages are not for emergencies. In an emergency, call your local emergency number.
      </p>
      {patient ? <Thread key={patient.id} me={me} patientId={patient.id} /> : null}
    </Page>
  );
}

function Thread({ me, patientId }: { me: Me; patientId: string }) {
  const path = `/api/v1/patients/${encodeURIComponent(patientId)}/messages`;
  const [messages, setMessages] = useState<Message[]>([]);
  const [older, setOlder] = useState<string | undefined>();
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const marked = useRef(new Set<string>());
  const first = useRef(true);
  const refused = useRef(false);

  const loadLatest = async () => {
    try {
      const page = await get<MessagePage>(`${path}${query({ limit: PAGE })}`);
      setMessages((m) => mergeMessages(m, page.items));
      // Only the first load sets where older pages start; polling must not move it.
      if (first.current) setOlder(page.next);
      first.current = false;
      setLoaded(true);
      setError(undefined);
    } catch (e) {
      const err = asApiError(e);
      // Refused (consent withheld, grant ended): asking again every 30 s would only fill the audit log.
      if (err.status === 401 || err.status === 403) refused.current = true;
      setError(err);
    }
  };
  useEffect(() => {
    void loadLatest();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible' && !refused.current) void loadLatest();
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [path]);

  useEffect(() => {
    for (const m of unreadFromCareTeam(messages)) {
      if (marked.current.has(m.id)) continue;
      marked.current.add(m.id);
      // Best effort: a failure only leaves it marked unread; the next poll tries again.
      void post(`${path}/${encodeURIComponent(m.id)}/read`).catch(() => marked.current.delete(m.id));
    }
  }, [messages, path]);

  const loadOlder = useAction(async () => {
    if (!older) return;
    const page = await get<MessagePage>(`${path}${query({ before: older, limit: PAGE })}`);
    setMessages((m) => mergeMessages(m, page.items));
    setOlder(page.next);
  });

  return (
    <section aria-labelledby="thread-title" class="thread-section">
      <h2 id="thread-title" class="visually-hidden">
        Conversation with the care team
      </h2>
      {error?.status === 403 ? (
        <div class="notice notice-error" role="alert" data-testid="messages-refused">
          You cannot see these messages: {error.problem.detail ?? 'access was refused'}.
        </div>
      ) : (
        <ErrorNotice error={error} />
      )}
      {!loaded && !error ? <Loading what="your messages" /> : null}
      {older ? (
        <button type="button" onClick={() => void loadOlder.run()} disabled={loadOlder.busy}>
          {loadOlder.busy ? 'Loading…' : 'Show older messages'}
        </button>
      ) : null}
      <ErrorNotice error={loadOlder.error} />
      {loaded && messages.length === 0 ? <p>No messages yet. Write to your care team below.</p> : null}
      <ol class="thread" aria-label="Messages">
        {messages.map((m) => {
          const mine = m.sender.userId === me.userId;
          return (
            <li
              key={m.id}
              class={`message ${mine ? 'mine' : 'theirs'}`}
              data-testid="message-row"
              data-message-id={m.id}
            >
              <p class="message-meta">
                <strong>{senderLabel(m, me.userId)}</strong> · <Time at={m.sentAt} />
              </p>
              <p class="message-body">{m.body}</p>
              {fromCareTeam(m) ? null : (
                <p class="hint">{m.readAt ? 'Read by the care team' : 'Not read by the care team yet'}</p>
              )}
            </li>
          );
        })}
      </ol>
      {error?.status === 403 ? null : (
        <Compose
          path={path}
          onSent={(m) => (m ? setMessages((all) => mergeMessages(all, [m])) : void loadLatest())}
        />
      )}
    </section>
  );
}

function Compose({ path, onSent }: { path: string; onSent: (m: Message | undefined) => void }) {
  const [body, setBody] = useState('');
  const [problem, setProblem] = useState<string | undefined>();
  const send = useAction(async () => {
    const checked = checkMessage(body);
    if (!checked.ok) {
      setProblem(checked.problem);
      return;
    }
    const sent = await post<Message | undefined>(path, { body: checked.body });
    setBody('');
    onSent(sent && typeof sent === 'object' && 'id' in sent ? sent : undefined);
  });
  return (
    <form
      class="compose"
      aria-label="Write a message"
      onSubmit={(e) => {
        e.preventDefault();
        setProblem(undefined);
        void send.run();
      }}
    >
      <TextArea
        label="Your message"
        name="body"
        value={body}
        onInput={(v) => {
          setBody(v);
          setProblem(undefined);
        }}
        rows={4}
        maxLength={MAX_MESSAGE_LENGTH}
        localError={problem}
        error={send.error}
      />
      <ErrorNotice error={send.error} />
      <button type="submit" class="primary" disabled={send.busy} data-testid="send-message">
        {send.busy ? 'Sending…' : 'Send'}
      </button>
    </form>
  );
}
