/**
 * Form fields for runs: one per declared parameter (choices and booleans as a select, numbers, dates and text as
 * inputs, defaults filled in), each with its description and the error the server gave for it. The server checks
 * the values (the same check as `medallion trigger`): the form converts nothing and refuses nothing itself.
 */
import type { ReactNode } from 'react';
import type { ParamDefinition } from '../../../core/pipeline.js';
import { ApiError } from '../../api/client.js';

/** What the user typed, as text (empty: not given, the pipeline's default applies). */
export type ParamInputs = Record<string, string>;

export function initialInputs(params: Record<string, ParamDefinition>): ParamInputs {
  return Object.fromEntries(
    Object.entries(params).map(([name, param]) => [
      name,
      param.default === undefined ? '' : String(param.default),
    ]),
  );
}

/** The values a request sends: those given. */
export function givenParams(inputs: ParamInputs): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).filter(([, value]) => value !== ''));
}

/** A `datetime-local` value read as UTC, as every time on these pages is. */
export function utcInstant(local: string): string {
  return local === '' ? '' : new Date(`${local}Z`).toISOString();
}

/** The server's message for one field, when its error names it. */
export function errorFor(error: Error | null, field: string): string | undefined {
  if (!(error instanceof ApiError) || error.field !== field) return undefined;
  return error.hint ? `${error.message} (${error.hint})` : error.message;
}

/** An error no field of the form shows. */
export function FormError({ error, fields }: { error: Error | null; fields: readonly string[] }) {
  if (!error || (error instanceof ApiError && error.field && fields.includes(error.field))) return null;
  return (
    <p role="alert" className="error">
      {error.message}
    </p>
  );
}

interface InputProps {
  id: string;
  'aria-describedby'?: string;
  'aria-invalid'?: boolean;
}

/** A labelled field: its note and its error are read out with the input they describe. */
export function Field({
  id,
  label,
  note,
  error,
  children,
}: {
  id: string;
  label: string;
  note?: string | undefined;
  error?: string | undefined;
  children: (input: InputProps) => ReactNode;
}) {
  const described = [note && `${id}-note`, error && `${id}-error`].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(described && { 'aria-describedby': described }),
        ...(error && { 'aria-invalid': true }),
      })}
      {note && (
        <p id={`${id}-note`} className="muted">
          {note}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} role="alert" className="error">
          {error}
        </p>
      )}
    </div>
  );
}

/** An instant, typed in UTC as every time on these pages is shown. */
export function InstantField({
  id,
  label,
  note,
  error,
  value,
  onChange,
}: {
  id: string;
  label: string;
  note?: string;
  error: string | undefined;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <Field id={id} label={`${label} (UTC)`} note={note} error={error}>
      {(input) => (
        <input
          {...input}
          type="datetime-local"
          value={value}
          onChange={(event) => onChange(event.target.value)}
        />
      )}
    </Field>
  );
}

function noteOf(param: ParamDefinition): string {
  const parts = [
    param.description,
    param.required && param.default === undefined ? 'required' : undefined,
    param.default !== undefined ? `default ${String(param.default)}` : undefined,
  ];
  return parts.filter(Boolean).join(' · ') || param.type;
}

/** A select's options: the declared choices (or true and false), and "not given" when that is allowed. */
function optionsOf(param: ParamDefinition): string[] | undefined {
  const choices =
    param.type === 'boolean' ? ['true', 'false'] : param.choices?.map((choice) => String(choice));
  if (!choices) return undefined;
  return param.default === undefined ? ['', ...choices] : choices;
}

const INPUT_TYPES: Record<ParamDefinition['type'], string> = {
  string: 'text',
  number: 'number',
  integer: 'number',
  boolean: 'text',
  date: 'date',
};

export function ParamFields({
  idPrefix,
  params,
  inputs,
  onChange,
  error,
}: {
  idPrefix: string;
  params: Record<string, ParamDefinition>;
  inputs: ParamInputs;
  onChange: (inputs: ParamInputs) => void;
  error: Error | null;
}) {
  const names = Object.keys(params);
  if (names.length === 0) return <p className="muted">This pipeline declares no parameters.</p>;
  return (
    <fieldset className="params">
      <legend>Parameters</legend>
      {names.map((name) => {
        const param = params[name] as ParamDefinition;
        const options = optionsOf(param);
        const value = inputs[name] ?? '';
        const set = (next: string) => onChange({ ...inputs, [name]: next });
        return (
          <Field
            key={name}
            id={`${idPrefix}-param-${name}`}
            label={name}
            note={noteOf(param)}
            error={errorFor(error, `params.${name}`)}
          >
            {(input) =>
              options ? (
                <select {...input} value={value} onChange={(event) => set(event.target.value)}>
                  {options.map((option) => (
                    <option key={option} value={option}>
                      {option === '' ? '— not given —' : option}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  {...input}
                  type={INPUT_TYPES[param.type]}
                  step={param.type === 'integer' ? 1 : param.type === 'number' ? 'any' : undefined}
                  value={value}
                  onChange={(event) => set(event.target.value)}
                />
              )
            }
          </Field>
        );
      })}
    </fieldset>
  );
}

/** The names of the fields ParamFields shows, as the server names them in errors. */
export function paramFields(params: Record<string, ParamDefinition>): string[] {
  return Object.keys(params).map((name) => `params.${name}`);
}
