/**
 * Paged lists of the admin API (`{items, next}`; `next` goes back as `cursor`): the first page for the
 * applied filters, then "Show more" appends the next. Also the small parts the admin screens share: the
 * sub-navigation of a screen and the patient ids offered as suggestions.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, get, query } from '../api.ts';
import { href } from '../router.ts';
import { asApiError, useLoad } from '../ui/async.ts';
import { ErrorNotice, Loading } from '../ui/kit.tsx';

export interface Paged<T> {
  readonly items: readonly T[];
  readonly next: string | undefined;
  readonly loading: boolean;
  readonly error: ApiError | undefined;
  more(): void;
  reload(): void;
}

export function usePaged<T>(path: string, filters: Record<string, string | undefined>, limit = 50): Paged<T> {
  const key = `${path}${query({ ...filters, limit })}`;
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | undefined>();
  const [generation, setGeneration] = useState(0);
  const current = useRef(0);
  const load = async (cursor: string | undefined, mine: number) => {
    setLoading(true);
    try {
      const page = await get<{ items: T[]; next?: string }>(`${path}${query({ ...filters, limit, cursor })}`);
      if (current.current !== mine) return;
      setItems((old) => (cursor ? [...old, ...page.items] : page.items));
      setNext(page.next);
      setError(undefined);
    } catch (e) {
      if (current.current === mine) setError(asApiError(e));
    } finally {
      if (current.current === mine) setLoading(false);
    }
  };
  useEffect(() => {
    const mine = ++current.current;
    setItems([]);
    setNext(undefined);
    void load(undefined, mine);
  }, [key, generation]);
  return {
    items,
    next,
    loading,
    error,
    more: () => {
      if (next) void load(next, current.current);
    },
    reload: () => setGeneration((g) => g + 1),
  };
}

/** Under a table: how many are shown, "Show more", the error of the last page asked. */
/** "1 event", "2 events": every `what` here is a plural made with a final s. */
const counted = (n: number, what: string) => `${n} ${n === 1 ? what.replace(/s$/, '') : what}`;

export function PageFooter({ list, what }: { list: Paged<unknown>; what: string }) {
  return (
    <div class="page-footer">
      <ErrorNotice error={list.error} />
      {list.loading ? <Loading what={what} /> : null}
      <p class="hint" role="status">
        {list.loading ? '' : `Showing ${counted(list.items.length, what)}${list.next ? '' : ' (all)'}.`}
      </p>
      {list.next ? (
        <button type="button" onClick={list.more} disabled={list.loading}>
          Show more {what}
        </button>
      ) : null}
    </div>
  );
}

/** A screen's sub-pages as links (the current one marked for assistive technology, and in bold). */
export function SubNav({
  label,
  items,
  current,
}: {
  label: string;
  items: readonly (readonly [path: string, text: string])[];
  current: string;
}) {
  return (
    <nav class="sub-nav" aria-label={label}>
      <ul>
        {items.map(([path, text]) => (
          <li key={path}>
            <a href={href(...path.split('/'))} aria-current={path === current ? 'page' : undefined}>
              {text}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/** A table with a caption for screen readers and a horizontal scroll on small screens. */
export function Table(props: {
  caption: string;
  head: readonly string[];
  children: ComponentChildren;
  testId?: string;
}) {
  return (
    <div class="table-wrap">
      <table data-testid={props.testId}>
        <caption class="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

interface PatientEntry {
  readonly id: string;
  readonly displayName?: string;
  readonly erasedAt?: string;
}

let patientCache: Promise<PatientEntry[]> | undefined;

/** Registered patients (not erased) as suggestions for id fields: loaded once, refreshed on demand. */
export function usePatientSuggestions(): readonly (readonly [string, string])[] {
  const list = useLoad(() => {
    patientCache ??= get<{ items: PatientEntry[] }>('/api/v1/admin/patients?limit=1000').then(
      (p) => p.items,
      (e: unknown) => {
        patientCache = undefined;
        throw e;
      },
    );
    return patientCache;
  }, []);
  return (list.data ?? []).filter((p) => !p.erasedAt).map((p) => [p.id, p.displayName ?? p.id] as const);
}

/** After a patient was registered or erased, the next suggestion list is fetched anew. */
export function forgetPatientSuggestions(): void {
  patientCache = undefined;
}
