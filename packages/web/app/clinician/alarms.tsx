/**
 * `#/alarms`: the open alarms of my patients, live from the alarm stream, highest priority and newest
 * first, each with its actions. A filter narrows to what needs a response or what is assigned to me.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Me } from '../api.ts';
import { Page } from '../ui/kit.tsx';
import { usePeopleNames } from '../ui/person-names.tsx';
import type { alarmFeed } from './alarm-feed.ts';
import { AlarmItem, peopleNamedBy } from './alarm-item.tsx';
import { byInboxOrder, conditionText, needsResponse } from './alarms-model.ts';
import { loadCensus, nameOf, serverNow } from './census-cache.ts';
import { statusText } from './live.ts';

type Show = 'all' | 'waiting' | 'mine';

export function AlarmInbox({ me, feed }: { me: Me; feed: typeof alarmFeed }) {
  const [show, setShow] = useState<Show>('all');
  const [filter, setFilter] = useState('');
  const [, setNamesLoaded] = useState(false);
  const [, tick] = useState(0);
  // Names come from the census (a minute old is fine); ages and snoozes need a clock.
  useEffect(() => {
    loadCensus(60_000).then(
      () => setNamesLoaded(true),
      () => undefined,
    );
    const t = setInterval(() => tick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, []);

  const now = serverNow();
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const all = [...feed.open.values()];
  const shown = all
    .filter((a) =>
      show === 'waiting' ? needsResponse(a, now) : show === 'mine' ? a.assignee === me.userId : true,
    )
    .filter((a) => {
      if (words.length === 0) return true;
      const hay =
        `${nameOf(a.patientId)} ${a.patientId} ${conditionText(a.condition)} ${a.priority}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    })
    .sort(byInboxOrder(now));
  // One lookup names everyone the open alarms name (asked again only when that set changes).
  const names = usePeopleNames(
    feed.loaded ? peopleNamedBy(all.flatMap((a) => [a.assignee, a.acknowledgedBy])) : undefined,
  );

  return (
    <Page title="Alarms">
      <div class="toolbar">
        <fieldset class="choice-group">
          <legend>Show</legend>
          {(
            [
              ['all', 'All open'],
              ['waiting', 'Needing a response'],
              ['mine', 'Assigned to me'],
            ] as const
          ).map(([value, label]) => (
            <label key={value}>
              <input
                type="radio"
                name="alarm-show"
                value={value}
                checked={show === value}
                onChange={() => setShow(value)}
              />
              {label}
            </label>
          ))}
        </fieldset>
        <div class="field filter-field">
          <label for="alarm-filter">Filter alarms</label>
          <input
            id="alarm-filter"
            type="search"
            value={filter}
            placeholder="Patient, condition or priority"
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </div>
      </div>
      <p class="result-count" role="status">
        {feed.loaded
          ? `${shown.length} of ${all.length} open alarm${all.length === 1 ? '' : 's'} shown`
          : `Alarm stream: ${statusText(feed.status)}`}
      </p>
      {feed.loaded && shown.length === 0 ? (
        <p class="empty">{all.length === 0 ? 'No open alarms for your patients.' : 'No alarm matches.'}</p>
      ) : (
        <ul class="alarm-list" aria-label="Open alarms">
          {shown.map((a) => (
            <AlarmItem key={a.id} alarm={a} me={me} now={now} showPatient names={names} />
          ))}
        </ul>
      )}
    </Page>
  );
}
