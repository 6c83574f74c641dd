/**
 * Form parts the kit does not have (used by the patient portal and the admin console): a text field that
 * also takes a list of suggestions, a text area, a select and checkbox group that show the error of the
 * field the platform named, a confirmation dialog and a copy button. Every control has a visible label;
 * errors sit under the control at fault and are tied to it with aria-describedby.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../api.ts';

/**
 * The message of an API error about this field: the platform names it as a JSON pointer (`/roles/1`), a
 * few older routes by bare name (`id`). A pointer inside the field (`/roles/1`) is about it too.
 */
export function fieldError(error: ApiError | undefined, name: string): string | undefined {
  const field = error?.problem.field;
  if (field === undefined) return undefined;
  const matches = field === `/${name}` || field === name || field.startsWith(`/${name}/`);
  return matches ? (error?.problem.detail ?? error?.problem.title) : undefined;
}

interface Common {
  label: string;
  name: string;
  hint?: string | undefined;
  error?: ApiError | undefined;
  /** An error found before asking the platform (e.g. a required choice). */
  localError?: string | undefined;
  required?: boolean;
  disabled?: boolean;
}

function Note({ id, error, hint }: { id: string; error: string | undefined; hint: string | undefined }) {
  if (error)
    return (
      <p class="field-error" id={id}>
        {error}
      </p>
    );
  return hint ? (
    <p class="hint" id={id}>
      {hint}
    </p>
  ) : null;
}

export function TextField(
  props: Common & {
    value: string;
    onInput: (v: string) => void;
    type?: 'text' | 'password' | 'email' | 'tel' | 'number' | 'search' | 'date' | 'datetime-local' | 'url';
    suggestions?: readonly (readonly [value: string, label: string])[];
    autoComplete?: string;
    inputMode?: 'numeric' | 'text' | 'decimal' | 'email' | 'tel' | 'search';
    pattern?: string;
    min?: number;
    max?: number;
    maxLength?: number;
    placeholder?: string;
    testId?: string;
  },
) {
  const id = useId();
  const error = props.localError ?? fieldError(props.error, props.name);
  const note = error || props.hint ? `${id}-note` : undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        {...({ type: props.type ?? 'text' } as { type: 'text' })}
        id={id}
        name={props.name}
        value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        list={props.suggestions ? `${id}-list` : undefined}
        autoComplete={props.autoComplete ?? 'off'}
        inputMode={props.inputMode}
        pattern={props.pattern}
        min={props.min}
        max={props.max}
        maxLength={props.maxLength}
        placeholder={props.placeholder}
        required={props.required}
        disabled={props.disabled}
        data-testid={props.testId}
        aria-invalid={error ? true : undefined}
        aria-describedby={note}
      />
      {props.suggestions ? (
        <datalist id={`${id}-list`}>
          {props.suggestions.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </datalist>
      ) : null}
      <Note id={`${id}-note`} error={error} hint={props.hint} />
    </div>
  );
}

export function TextArea(
  props: Common & { value: string; onInput: (v: string) => void; rows?: number; maxLength?: number },
) {
  const id = useId();
  const error = props.localError ?? fieldError(props.error, props.name);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        name={props.name}
        rows={props.rows ?? 3}
        value={props.value}
        maxLength={props.maxLength}
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
        required={props.required}
        disabled={props.disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={error || props.hint ? `${id}-note` : undefined}
      />
      <Note id={`${id}-note`} error={error} hint={props.hint} />
    </div>
  );
}

export function SelectField(
  props: Common & {
    value: string;
    onChange: (v: string) => void;
    options: readonly (readonly [value: string, label: string])[];
  },
) {
  const id = useId();
  const error = props.localError ?? fieldError(props.error, props.name);
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
        disabled={props.disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={error || props.hint ? `${id}-note` : undefined}
      >
        {props.options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
      <Note id={`${id}-note`} error={error} hint={props.hint} />
    </div>
  );
}

/** Several choices under one legend (a fieldset), e.g. roles. */
export function CheckboxGroup(
  props: Common & {
    values: readonly string[];
    onChange: (v: string[]) => void;
    options: readonly (readonly [value: string, label: string, hint?: string])[];
  },
) {
  const id = useId();
  const error = props.localError ?? fieldError(props.error, props.name);
  const toggle = (v: string, on: boolean) =>
    props.onChange(on ? [...props.values.filter((x) => x !== v), v] : props.values.filter((x) => x !== v));
  return (
    <fieldset
      class="field choices"
      aria-invalid={error ? true : undefined}
      aria-describedby={error || props.hint ? `${id}-note` : undefined}
    >
      <legend>{props.label}</legend>
      {props.options.map(([v, l, h]) => (
        <label key={v} class="choice">
          <input
            type="checkbox"
            name={props.name}
            value={v}
            checked={props.values.includes(v)}
            disabled={props.disabled}
            onChange={(e) => toggle(v, (e.target as HTMLInputElement).checked)}
          />
          <span>
            {l}
            {h ? <span class="hint choice-hint">{h}</span> : null}
          </span>
        </label>
      ))}
      <Note id={`${id}-note`} error={error} hint={props.hint} />
    </fieldset>
  );
}

/**
 * A modal confirmation (native <dialog>: focus is kept inside, Escape cancels). The body usually holds the
 * reason field; the confirm button submits the dialog's form.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  children: ComponentChildren;
  testId?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      class="confirm-dialog"
      aria-labelledby={titleId}
      data-testid={props.testId}
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      {props.open ? (
        <form
          method="dialog"
          onSubmit={(e) => {
            e.preventDefault();
            props.onConfirm();
          }}
        >
          <h2 id={titleId}>{props.title}</h2>
          {props.children}
          <div class="dialog-actions">
            <button type="button" onClick={props.onCancel}>
              Cancel
            </button>
            <button type="submit" class={props.danger ? 'danger' : 'primary'} disabled={props.busy}>
              {props.confirmLabel}
            </button>
          </div>
        </form>
      ) : null}
    </dialog>
  );
}

/** Copies a one-time secret or link; says so in words (announced), not by a colour change. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <span class="copy">
      <button
        type="button"
        onClick={() =>
          navigator.clipboard.writeText(text).then(
            () => setState('copied'),
            () => setState('failed'),
          )
        }
      >
        {label}
      </button>
      <span role="status" class="copy-status">
        {state === 'copied'
          ? 'Copied.'
          : state === 'failed'
            ? 'Copy failed: select the text and copy it.'
            : ''}
      </span>
    </span>
  );
}
