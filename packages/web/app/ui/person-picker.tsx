/**
 * Choosing a person by name (the people directory, `GET /api/v1/people`): a labelled search input with a
 * list of results, after the WAI-ARIA combobox pattern (an input with role="combobox" owning a listbox,
 * the active option named by aria-activedescendant so focus stays in the input). Keyboard: type; Down and
 * Up move through the results; Enter chooses (the only result, when none is active); Escape closes the
 * list (and, with it closed, clears the text); Tab leaves as usual. A live region says how many people
 * were found and who was chosen. Each result shows the display name, the username and the roles, so two
 * people with one name can be told apart.
 */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { type ApiError, get } from '../api.ts';
import { asApiError } from './async.ts';
import { fieldError } from './fields.tsx';
import {
  canSearch,
  mergePeople,
  type Person,
  peoplePaths,
  personDetail,
  searchStatus,
} from './person-search.ts';

export type { Person } from './person-search.ts';

/** Wait this long after the last key before asking, so typing a name asks once or twice, not per letter. */
const DEBOUNCE_MS = 200;

export function PersonPicker(props: {
  label: string;
  /** The API field a refusal names (`/userId`): its error is shown here. */
  name: string;
  hint?: string;
  /** Only people with one of these roles (one request per role). */
  roles?: readonly string[];
  /** People already listed elsewhere in the form: not offered again. */
  exclude?: readonly string[];
  chosen: Person | undefined;
  onChoose: (p: Person | undefined) => void;
  error?: ApiError | undefined;
  localError?: string | undefined;
  testId?: string;
}) {
  const id = useId();
  const listId = `${id}-list`;
  const optionId = (i: number) => `${id}-option-${i}`;
  const [typed, setTyped] = useState(props.chosen?.displayName ?? '');
  const [results, setResults] = useState<Person[] | undefined>(undefined);
  const [searching, setSearching] = useState(false);
  const [failure, setFailure] = useState<ApiError | undefined>(undefined);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const generation = useRef(0);
  const rolesKey = (props.roles ?? []).join(',');
  const excludeKey = (props.exclude ?? []).join(',');

  useEffect(() => {
    const mine = ++generation.current;
    setActive(-1);
    setFailure(undefined);
    if (props.chosen || !canSearch(typed)) {
      setResults(undefined);
      setSearching(false);
      return;
    }
    setSearching(true);
    const timer = setTimeout(() => {
      Promise.all(peoplePaths(typed, props.roles).map((p) => get<{ items: Person[] }>(p))).then(
        (answers) => {
          if (generation.current !== mine) return;
          setResults(
            mergePeople(
              answers.map((a) => a.items),
              typed,
              props.exclude,
            ),
          );
          setFailure(undefined);
          setSearching(false);
        },
        (e: unknown) => {
          if (generation.current !== mine) return;
          setFailure(asApiError(e));
          setResults([]);
          setSearching(false);
        },
      );
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [typed, props.chosen, rolesKey, excludeKey]);

  const shown = open && !props.chosen && results !== undefined && results.length > 0;
  const choose = (p: Person) => {
    setTyped(p.displayName);
    setOpen(false);
    setActive(-1);
    props.onChoose(p);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const n = results?.length ?? 0;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (n === 0) return;
      e.preventDefault();
      setOpen(true);
      const step = e.key === 'ArrowDown' ? 1 : -1;
      // From nothing active, Down goes to the first and Up to the last; then round and round.
      setActive((a) => (a < 0 ? (step > 0 ? 0 : n - 1) : (a + step + n) % n));
    } else if (e.key === 'Enter') {
      // The active option; with none active, the only one found (a username typed in full).
      const p = shown ? (results?.[active] ?? (n === 1 ? results?.[0] : undefined)) : undefined;
      // Enter in the list chooses; it must not submit the form around the picker.
      if (p) {
        e.preventDefault();
        choose(p);
      } else if (!props.chosen) e.preventDefault();
    } else if (e.key === 'Escape') {
      if (shown) {
        e.preventDefault();
        setOpen(false);
        setActive(-1);
      } else if (typed) {
        e.preventDefault();
        setTyped('');
        if (props.chosen) props.onChoose(undefined);
      }
    }
  };

  const error = props.localError ?? fieldError(props.error, props.name) ?? failure?.message;
  const status = searchStatus({ typed, searching, results, chosen: props.chosen });
  return (
    <div class="field person-picker" data-testid={props.testId}>
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type="text"
        name={props.name}
        role="combobox"
        autoComplete="off"
        spellcheck={false}
        aria-autocomplete="list"
        aria-expanded={shown}
        aria-controls={shown ? listId : undefined}
        aria-activedescendant={shown && active >= 0 ? optionId(active) : undefined}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-note`}
        value={typed}
        onInput={(e) => {
          setTyped((e.target as HTMLInputElement).value);
          setOpen(true);
          if (props.chosen) props.onChoose(undefined);
        }}
        onKeyDown={onKeyDown}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
      />
      {shown ? (
        <div
          class="person-picker-list"
          id={listId}
          role="listbox"
          aria-label={`${props.label}: people found`}
        >
          {results.map((p, i) => (
            // Options are not in the tab order: focus stays in the input (aria-activedescendant).
            <div
              key={p.id}
              id={optionId(i)}
              role="option"
              tabIndex={-1}
              aria-selected={i === active}
              data-testid="person-option"
              data-user-id={p.id}
              // Chosen on mousedown, before the input loses focus and closes the list.
              onMouseDown={(e) => {
                e.preventDefault();
                choose(p);
              }}
            >
              <span class="person-name">{p.displayName}</span>
              <span class="person-detail">{personDetail(p)}</span>
            </div>
          ))}
        </div>
      ) : null}
      <p id={`${id}-note`} class={error ? 'field-error' : 'hint'}>
        {error ?? props.hint}
      </p>
      {/* Always in the page, so that screen readers announce each change of what it says. */}
      <p
        class={props.chosen ? 'person-picker-status chosen' : 'hint person-picker-status'}
        role="status"
        data-testid="person-picker-status"
        data-user-id={props.chosen?.id}
      >
        {props.chosen ? <span aria-hidden="true">✓ </span> : null}
        {status}
      </p>
    </div>
  );
}
