/**
 * `#/messages` and `#/messages/<patientId>`: conversations with my patients, unread first with their
 * counts; opening one shows it beside the list (below it on a phone, where the list gives way).
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, type Me } from '../api.ts';
import { href } from '../router.ts';
import { asApiError } from '../ui/async.ts';
import { ErrorNotice, Loading, Page } from '../ui/kit.tsx';
import { loadCensus, nameOf } from './census-cache.ts';
import { Conversation } from './conversation.tsx';
import type { CensusRow } from './live-types.ts';
import { conversationList, type UnreadCounts } from './messages-model.ts';

const UNREAD_POLL_MS = 30_000;

export function MessagesScreen({ me, patientId }: { me: Me; patientId: string | undefined }) {
  const [patients, setPatients] = useState<readonly CensusRow[] | undefined>();
  const [unread, setUnread] = useState<UnreadCounts['items']>([]);
  const [error, setError] = useState<ReturnType<typeof asApiError>>();
  const [filter, setFilter] = useState('');

  const refreshUnread = useCallback(() => {
    get<UnreadCounts>('/api/v1/messages/unread').then(
      (u) => setUnread(u.items),
      (e: unknown) => setError(asApiError(e)),
    );
  }, []);

  useEffect(() => {
    loadCensus(60_000).then(
      (c) => setPatients(c.items),
      (e: unknown) => {
        setPatients([]);
        setError(asApiError(e));
      },
    );
    refreshUnread();
    const t = setInterval(refreshUnread, UNREAD_POLL_MS);
    return () => clearInterval(t);
  }, [refreshUnread]);

  const entries = conversationList(patients ?? [], unread, filter);
  const totalUnread = unread.reduce((n, u) => n + u.unread, 0);
  const open = patientId ? { patientId, name: nameOf(patientId) } : undefined;

  return (
    <Page title="Messages">
      <ErrorNotice error={error} />
      <div class={`messages-layout${open ? ' has-open' : ''}`}>
        <nav class="conversation-nav" aria-label="Conversations">
          <p class="result-count" role="status">
            {totalUnread === 0
              ? 'No unread messages'
              : `${totalUnread} unread message${totalUnread === 1 ? '' : 's'}`}
          </p>
          <div class="field filter-field">
            <label for="conversation-filter">Find a patient</label>
            <input
              id="conversation-filter"
              type="search"
              value={filter}
              onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
            />
          </div>
          {!patients ? (
            <Loading what="your patients" />
          ) : entries.length === 0 ? (
            <p class="empty">No conversation.</p>
          ) : (
            <ul class="conversation-list">
              {entries.map((e) => (
                <li key={e.patientId} data-testid="conversation" data-patient-id={e.patientId}>
                  <a
                    href={href('messages', e.patientId)}
                    aria-current={e.patientId === patientId ? 'page' : undefined}
                    class={e.unread > 0 ? 'has-unread' : undefined}
                  >
                    <span class="conversation-name">{e.name}</span>
                    {e.unread > 0 ? <span class="badge unread-badge">{e.unread} unread</span> : null}
                  </a>
                </li>
              ))}
            </ul>
          )}
        </nav>
        <section
          class="conversation-pane"
          aria-label={open ? `Conversation with ${open.name}` : 'Conversation'}
        >
          {open ? (
            <>
              <div class="conversation-head">
                <h2>{open.name}</h2>
                <a href={href('patients', open.patientId)}>Open patient</a>
                <a class="back-link" href={href('messages')}>
                  All conversations
                </a>
              </div>
              <Conversation
                key={open.patientId}
                patientId={open.patientId}
                patientName={open.name}
                me={me}
                onRead={refreshUnread}
              />
            </>
          ) : (
            <p class="empty">Choose a patient to read and write messages.</p>
          )}
        </section>
      </div>
    </Page>
  );
}
