/**
 * A try's log: its lines (followed while it runs), a search that highlights every match and steps through them
 * (the query lives in the URL), the try to show, and a download of the whole log as a text file.
 */
import { memo, useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { TaskView } from '../../../app/runs.js';
import type { AttemptRecord } from '../../../metadata/metadata-store.js';
import { logPath, useTryLog } from './useTryLog.js';

interface Match {
  line: number;
  start: number;
}

function findMatches(lines: string[], query: string): Match[] {
  const needle = query.toLowerCase();
  if (!needle) return [];
  const matches: Match[] = [];
  lines.forEach((text, line) => {
    const haystack = text.toLowerCase();
    for (
      let start = haystack.indexOf(needle);
      start >= 0;
      start = haystack.indexOf(needle, start + needle.length)
    ) {
      matches.push({ line, start });
    }
  });
  return matches;
}

/** The line with its matches marked; the current one gets its own class. */
function Highlighted({
  text,
  starts,
  length,
  current,
}: {
  text: string;
  starts: number[];
  length: number;
  current: number | undefined;
}) {
  const parts = [];
  let from = 0;
  for (const start of starts) {
    parts.push(text.slice(from, start));
    parts.push(
      <mark key={start} className={start === current ? 'current' : undefined}>
        {text.slice(start, start + length)}
      </mark>,
    );
    from = start + length;
  }
  parts.push(text.slice(from));
  return <>{parts}</>;
}

/** Drawn again only when its lines or matches change, not each second a live page ticks. */
const LogLines = memo(function LogLines({
  lines,
  query,
  matches,
  index,
  following,
}: {
  lines: string[];
  query: string;
  matches: Match[];
  index: number;
  following: boolean;
}) {
  const box = useRef<HTMLOListElement>(null);
  const atBottom = useRef(true);
  const byLine = useMemo(() => {
    const grouped = new Map<number, number[]>();
    for (const match of matches) grouped.set(match.line, [...(grouped.get(match.line) ?? []), match.start]);
    return grouped;
  }, [matches]);
  const current = matches[index];

  // The current match scrolled into the middle of the log (the page itself stays where it is).
  useEffect(() => {
    const container = box.current;
    const mark = container?.querySelector<HTMLElement>('mark.current');
    if (container && mark) container.scrollTop = mark.offsetTop - container.clientHeight / 2;
  }, [current]);
  // A followed log stays at its end while the reader is there.
  useEffect(() => {
    const container = box.current;
    if (container && following && !current && atBottom.current) container.scrollTop = container.scrollHeight;
  }, [lines.length, following, current]);

  return (
    <ol
      ref={box}
      className="log-lines"
      tabIndex={0}
      aria-label="Log lines"
      onScroll={(event) => {
        const el = event.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
    >
      {lines.map((text, line) => {
        const starts = byLine.get(line);
        return (
          <li key={line}>
            {starts ? (
              <Highlighted
                text={text}
                starts={starts}
                length={query.length}
                current={current?.line === line ? current.start : undefined}
              />
            ) : (
              text
            )}
          </li>
        );
      })}
    </ol>
  );
});

function LogSearch({
  query,
  onQuery,
  count,
  index,
  onStep,
}: {
  query: string;
  onQuery: (query: string) => void;
  count: number;
  index: number;
  onStep: (by: 1 | -1) => void;
}) {
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    onStep(event.shiftKey ? -1 : 1);
  };
  return (
    <span className="log-search">
      <input
        type="search"
        aria-label="Search the log"
        placeholder="Search the log"
        value={query}
        onChange={(event) => onQuery(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <button type="button" aria-label="Previous match" disabled={count === 0} onClick={() => onStep(-1)}>
        ↑
      </button>
      <button type="button" aria-label="Next match" disabled={count === 0} onClick={() => onStep(1)}>
        ↓
      </button>
      <span className="muted" aria-live="polite">
        {query ? (count > 0 ? `${index + 1} of ${count}` : 'no match') : ''}
      </span>
    </span>
  );
}

export function LogViewer({
  runId,
  task,
  attempt,
  query,
  onQuery,
  onAttempt,
}: {
  runId: string;
  task: TaskView;
  attempt: AttemptRecord;
  query: string;
  onQuery: (query: string) => void;
  onAttempt: (attempt: number) => void;
}) {
  const log = useTryLog(runId, task.taskId, attempt);
  const matches = useMemo(() => findMatches(log.lines, query), [log.lines, query]);
  // The step through the matches starts again at the first for each new query.
  const [cursor, setCursor] = useState({ query, index: 0 });
  const index = cursor.query === query ? Math.min(cursor.index, Math.max(matches.length - 1, 0)) : 0;
  const step = (by: 1 | -1) => {
    if (matches.length > 0) setCursor({ query, index: (index + by + matches.length) % matches.length });
  };
  const download = `${logPath(runId, task.taskId)}?attempt=${attempt.attempt}&format=text`;
  return (
    <div className="log-viewer">
      <div className="log-tools">
        <label>
          Try{' '}
          <select value={attempt.attempt} onChange={(event) => onAttempt(Number(event.target.value))}>
            {task.attempts.map((each) => (
              <option key={each.attempt} value={each.attempt}>
                {each.attempt} ({each.state})
              </option>
            ))}
          </select>
        </label>
        <LogSearch query={query} onQuery={onQuery} count={matches.length} index={index} onStep={step} />
        <a className="button" href={download} download>
          Download log
        </a>
        {log.following && <span className="live">following the try…</span>}
      </div>
      {log.error && (
        <p role="alert" className="error">
          {log.error.message}
        </p>
      )}
      {log.loading ? (
        <p className="loading">Loading the log…</p>
      ) : (
        <LogLines lines={log.lines} query={query} matches={matches} index={index} following={log.following} />
      )}
    </div>
  );
}
