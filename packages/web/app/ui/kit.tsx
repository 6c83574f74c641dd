/** Small accessible building blocks: every input has a label, errors are announced, state is never colour alone. */
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import type { ApiError } from '../api.ts';
import { TextField } from './fields.tsx';

export function ErrorNotice({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <div class="notice notice-error" role="alert">
      <strong>{error.problem.title}</strong>
      {error.problem.detail ? `: ${error.problem.detail}` : ''}
    </div>
  );
}

/** A labelled text input that shows the API error naming it (see TextField). */
export function Field(props: {
  label: string;
  name: string;
  type?: 'text' | 'password' | 'email' | 'number' | 'tel' | 'date' | 'datetime-local' | 'search';
  value: string;
  onInput: (v: string) => void;
  autoComplete?: string;
  required?: boolean;
  hint?: string;
  /** The API error; shown here when it names this field (`/name`). */
  error?: ApiError | undefined;
  inputMode?: 'numeric' | 'text' | 'email' | 'tel' | 'search' | 'decimal';
  pattern?: string;
}) {
  return <TextField {...props} />;
}

export function Select(props: {
  label: string;
  name: string;
  value: string;
  options: readonly (readonly [value: string, label: string])[];
  onChange: (v: string) => void;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        {props.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
}

export function Page(props: {
  title: string;
  /** The title is a placeholder until what it names has loaded. */
  busy?: boolean;
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-header">
        <h1 id="page-title" aria-busy={props.busy || undefined} class={props.busy ? 'loading' : undefined}>
          {props.title}
        </h1>
        {props.actions ? <div class="page-actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  );
}

const PRIORITY_MARK: Record<string, string> = { high: '!!!', medium: '!!', low: '!' };

/** Alarm priority as text and symbol (IEC 60601-1-8 uses !!!, !!, !), colour only reinforces it. */
export function PriorityBadge({ priority }: { priority: string }) {
  return (
    <span class={`badge priority-${priority}`}>
      <span aria-hidden="true">{PRIORITY_MARK[priority] ?? ''} </span>
      {priority}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status.replace(/[^a-z-]/g, '')}`}>{status}</span>;
}

export function Time({ at }: { at: string | number | undefined }) {
  if (at === undefined) return <span>–</span>;
  const d = new Date(at);
  return (
    <time dateTime={d.toISOString()} title={d.toLocaleString()}>
      {relative(d.getTime())}
    </time>
  );
}

export function relative(t: number, now = Date.now()): string {
  const s = Math.round((now - t) / 1000);
  if (Math.abs(s) < 5) return 'just now';
  if (s < 0) return `in ${describe(-s)}`;
  return `${describe(s)} ago`;
}

function describe(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
