/**
 * Reading the deployment files (deploy/) as their tools do, for the test that starts what they say: Compose's
 * variable interpolation, systemd's unit files, environment files, command lines and specifiers, and the stages of
 * a Dockerfile. Each reader handles the subset the files use and throws on anything else, so that a file that
 * outgrows it fails loudly instead of being read wrong.
 */
import path from 'node:path';
import { parse } from 'yaml';

type Env = Readonly<Record<string, string | undefined>>;

/** A `${VAR…}` reference in a Compose file, with its operator (`:-`, `-`, `:?`, `?`, or none). */
export interface ComposeReference {
  name: string;
  operator: string;
  argument: string;
}

const COMPOSE_REFERENCE =
  /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Every `${VAR…}` and `$VAR` of a Compose file's text. */
export function composeReferences(text: string): ComposeReference[] {
  return [...text.matchAll(COMPOSE_REFERENCE)]
    .filter((match) => match[1] === undefined)
    .map((match) => ({
      name: match[2] ?? match[5] ?? '',
      operator: match[3] ?? '',
      argument: match[4] ?? '',
    }));
}

/**
 * One string as Compose interpolates it: `$$` is a dollar; `${VAR:-default}` (unset or empty) and `${VAR-default}`
 * (unset) give the default; `${VAR:?message}` and `${VAR?message}` refuse to go on without a value.
 */
export function interpolateCompose(text: string, env: Env, where = ''): string {
  return text.replace(
    COMPOSE_REFERENCE,
    (_all, dollar: string | undefined, braced, operator: string | undefined, argument, bare) => {
      if (dollar) return '$';
      const name = (braced ?? bare) as string;
      const value = env[name];
      const missing = operator?.startsWith(':') ? !value : value === undefined;
      switch (operator?.replace(':', '')) {
        case undefined:
          return value ?? '';
        case '-':
          return missing ? (argument as string) : (value as string);
        case '?':
          if (missing) {
            throw new Error(`${where}: required variable ${name} is missing a value: ${argument as string}`);
          }
          return value as string;
        default:
          throw new Error(`${where}: \${${name}${operator}…} is not read by this test's interpolation`);
      }
    },
  );
}

/** Every string of a parsed document interpolated, keys kept. */
function interpolateAll(value: unknown, env: Env, where: string): unknown {
  if (typeof value === 'string') return interpolateCompose(value, env, where);
  if (Array.isArray(value))
    return value.map((item, index) => interpolateAll(item, env, `${where}[${index}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateAll(item, env, `${where}.${key}`)]),
    );
  }
  return value;
}

export interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  working_dir?: string;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
  stop_grace_period?: string;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** A Compose file parsed (with `<<` merge keys, as Compose reads them) and interpolated with `env` alone. */
export function readComposeFile(text: string, env: Env): ComposeFile {
  return interpolateAll(parse(text, { merge: true }), env, 'compose') as ComposeFile;
}

/** A Compose duration (`90s`, `1m30s`) in milliseconds. */
export function composeDurationMs(duration: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.map((part) => part[0]).join('') !== duration) throw new Error(`not a duration: ${duration}`);
  return parts.reduce((total, part) => total + Number(part[1]) * (units[part[2] as string] as number), 0);
}

/** A unit file's settings per section, each key with its values in order (ExecStart=, Environment=… repeat). */
export type UnitFile = Map<string, Map<string, string[]>>;

export function parseUnitFile(text: string): UnitFile {
  const sections: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  // A backslash at the end of a line continues it.
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      sections.set(header[1] as string, section);
      continue;
    }
    const setting = /^([A-Za-z][A-Za-z0-9]*)\s*=\s*(.*)$/.exec(line);
    if (!setting || !section) throw new Error(`not a unit file line: ${raw}`);
    const [, key, value] = setting as unknown as [string, string, string];
    section.set(key, [...(section.get(key) ?? []), value]);
  }
  return sections;
}

/** The one value of a [Service] setting; an error when it is missing or repeated. */
export function unitSetting(unit: UnitFile, key: string): string {
  const values = unit.get('Service')?.get(key) ?? [];
  if (values.length !== 1) throw new Error(`expected one ${key}= in [Service], found ${values.length}`);
  return values[0] as string;
}

/** Replaces the specifiers these units use: %i and %I (the instance), %%. */
export function expandSpecifiers(text: string, instance: string | undefined): string {
  return text.replace(/%(.)/g, (_all, letter: string) => {
    if (letter === '%') return '%';
    if ((letter === 'i' || letter === 'I') && instance !== undefined) return instance;
    throw new Error(`specifier %${letter} is not read by this test (or the unit is not a template)`);
  });
}

/** Splits a systemd value into words: whitespace separates, double or single quotes group. */
function unitWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : (match[2] ?? match[3] ?? ''));
  }
  return words;
}

/**
 * An ExecStart= command line as systemd runs it: `${VAR}` becomes the variable's value within its word, a word
 * that is `$VAR` alone becomes the value split at whitespace (zero or more words).
 */
export function execStartArgs(line: string, env: Env): string[] {
  if (/^[-@:+!]/.test(line)) throw new Error(`ExecStart= prefixes are not read by this test: ${line}`);
  return unitWords(line).flatMap((word) => {
    const alone = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (alone) return (env[alone[1] as string] ?? '').split(/\s+/).filter((part) => part !== '');
    if (/\$[A-Za-z_]/.test(word.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, ''))) {
      throw new Error(`$VAR inside a word is not expanded by systemd: ${word}`);
    }
    return [word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_all, name: string) => env[name] ?? '')];
  });
}

/** Environment= values: assignments separated by whitespace, each optionally quoted. */
export function environmentAssignments(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    values.flatMap(unitWords).map((assignment) => {
      const equals = assignment.indexOf('=');
      if (equals <= 0) throw new Error(`not an assignment: ${assignment}`);
      return [assignment.slice(0, equals), assignment.slice(equals + 1)];
    }),
  );
}

/** An environment file (systemd's EnvironmentFile=): KEY=value lines, # comments, optional quotes. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`not a KEY=value line: ${raw}`);
    const value = (match[2] as string).trim();
    env[match[1] as string] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return env;
}

/** One instruction of a Dockerfile: its keyword (upper case) and the rest of its line(s). */
export interface DockerInstruction {
  keyword: string;
  args: string;
}

export interface DockerStage {
  name: string | undefined;
  base: string;
  instructions: DockerInstruction[];
}

/** A Dockerfile's stages, in order, with their instructions (comments dropped, continued lines joined). */
export function parseDockerfile(text: string): DockerStage[] {
  const stages: DockerStage[] = [];
  const joined = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const [keyword = '', ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!from) throw new Error(`cannot read FROM ${instruction.args}`);
      stages.push({ base: from[1] as string, name: from[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${instruction.keyword} before any FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

/** A COPY of a stage, its sources and destination made absolute against the WORKDIR it runs in. */
export interface DockerCopy {
  from: string | undefined;
  sources: string[];
  destination: string;
  workdir: string;
}

/** The stage's COPY instructions, and its WORKDIR at the end. */
export function stageCopies(stage: DockerStage): { copies: DockerCopy[]; workdir: string } {
  let workdir = '/';
  const copies: DockerCopy[] = [];
  for (const { keyword, args } of stage.instructions) {
    if (keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, args);
    if (keyword !== 'COPY') continue;
    const words = args.split(/\s+/);
    const flags = words.filter((word) => word.startsWith('--'));
    const paths = words.filter((word) => !word.startsWith('--'));
    const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
    const destination = paths.pop() ?? '';
    copies.push({
      from,
      sources: paths,
      // `COPY a b ./` copies into the directory; a destination ending in / or naming `.` is one.
      destination: path.posix.resolve(workdir, destination) + (/(\/|^\.)$/.test(destination) ? '/' : ''),
      workdir,
    });
  }
  return { copies, workdir };
}

/** The stage's value of a JSON-form instruction (ENTRYPOINT, CMD), the last one winning. */
export function stageExecForm(stage: DockerStage, keyword: string): string[] | undefined {
  const found = stage.instructions.filter((instruction) => instruction.keyword === keyword).at(-1);
  if (!found) return undefined;
  const value: unknown = JSON.parse(found.args);
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`${keyword} is not in exec form (a JSON array of strings): ${found.args}`);
  }
  return value;
}

/** Whether a .dockerignore pattern (the forms this project uses: names, paths, `**` and `*`) excludes `file`. */
export function dockerIgnores(patterns: readonly string[], file: string): boolean {
  return patterns.some((pattern) => {
    const regex = new RegExp(
      `^${pattern
        .replace(/\/$/, '')
        .split('/')
        .map((part) =>
          part === '**'
            ? '(?:.*/)?'
            : `${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}/`,
        )
        .join('')
        .replace(/\/$/, '')}(?:/.*)?$`,
    );
    return regex.test(file);
  });
}
