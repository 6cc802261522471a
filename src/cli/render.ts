import type { ProgressEvent } from '../core/progress.js';
import type { RunSummary } from '../runner/run-summary.js';

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function formatNumber(value: number | string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'number' ? numberFormat.format(value) : value;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/**
 * Columns padded to their widest cell, two spaces apart: the first (and those `leftAligned` names, e.g. text)
 * aligned left, the others (figures) right.
 */
export function table(headers: string[], rows: string[][], leftAligned: readonly string[] = []): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const left = headers.map((header, column) => column === 0 || leftAligned.includes(header));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        left[column] ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].map((text) => `  ${text}`).join('\n');
}

/** One line per task as it finishes, so a long run shows where it is. */
export function progressLine(event: ProgressEvent): string | undefined {
  switch (event.type) {
    case 'run-created':
      return `+ ${event.pipeline} ${event.runId} (${event.trigger}, logical date ${event.logicalDate})`;
    case 'run-started':
      return `▶ ${event.pipeline} ${event.runId}: ${event.tasks.length} tasks`;
    case 'task-started':
      return `  … ${event.task}`;
    case 'task-progress':
      return `    ${event.task}: ${event.message}`;
    case 'task-finished':
      return `  ${{ success: '✔', skipped: '↷', failed: '✘' }[event.status]} ${event.task} (${seconds(event.durationMs)}): ${event.detail}`;
    case 'run-finished':
      return `${event.status === 'success' ? '✔' : '✘'} run ${event.runId} ${event.status} in ${seconds(event.durationMs)}`;
    case 'run-waiting':
      return `⏸ ${event.pipeline} ${event.runId}: ${event.reason}`;
    case 'run-abandoned':
      return `✘ ${event.pipeline} ${event.runId} ended as failed: ${event.reason}`;
  }
}

/** A progress listener that writes each event's line on stderr, after `indent`. */
export function progressOnStderr(indent = ''): (event: ProgressEvent) => void {
  return (event) => {
    const line = progressLine(event);
    if (line) process.stderr.write(`${indent}${line}\n`);
  };
}

/** The run summary for people: rows per table, accounting, headline, time per task. */
export function renderSummary(summary: RunSummary): string {
  const out: string[] = [];
  out.push(
    `${summary.pipeline} ${summary.runId}: ${summary.status.toUpperCase()} in ${seconds(summary.durationMs)} (logical date ${summary.logicalDate})`,
  );
  if (summary.error) out.push(`error: ${summary.error}`);
  const ingest = summary.ingest;
  out.push('', `Ingest: ${ingest.landed.length} file(s) landed, ${ingest.skipped.length} already ingested`);
  for (const file of ingest.landed)
    out.push(
      `  + ${file.file} → landing/${file.landingKey} (${formatNumber(file.bytes)} bytes, sha256 ${file.sha256.slice(0, 12)}…)`,
    );
  for (const file of ingest.unmatched) out.push(`  ? ${file} matches no source: left alone`);
  for (const file of ingest.refused) out.push(`  ! ${file.file} skipped: ${file.reason}`);
  out.push(
    '',
    'Tables',
    table(
      ['table', 'rows', 'written', 'in', 'out', 'deduplicated', 'quarantined', 'version'],
      summary.tables.map((entry) => [
        `${entry.layer}.${entry.table}`,
        formatNumber(entry.rows),
        formatNumber(entry.rowsWritten),
        formatNumber(entry.accounting?.rowsIn),
        formatNumber(entry.accounting?.recordsOut),
        formatNumber(entry.accounting?.deduplicated),
        formatNumber(entry.accounting?.quarantined),
        formatNumber(entry.version),
      ]),
    ),
  );
  const reasons = summary.tables.flatMap((entry) =>
    Object.entries(entry.accounting?.quarantineReasons ?? {}).map(
      ([reason, n]) => `${entry.layer}.${entry.table}: ${reason} ${formatNumber(n)}`,
    ),
  );
  if (reasons.length) out.push('', `Quarantined: ${reasons.join('; ')}`);
  const checks = summary.tables.flatMap((entry) => entry.expectations ?? []);
  const unmet = summary.tables.flatMap((entry) =>
    (entry.expectations ?? [])
      .filter((result) => !result.passed)
      .map(
        (result) =>
          `${entry.layer}.${entry.table}: ${result.name} (${result.action}) ${formatNumber(result.failingRows)} row(s)`,
      ),
  );
  if (checks.length) {
    out.push(
      '',
      `Expectations: ${checks.length - unmet.length} of ${checks.length} met${unmet.length ? `; not met: ${unmet.join('; ')}` : ''} (details: medallion quality)`,
    );
  }
  if (summary.headline) {
    out.push(
      '',
      `Headline: ${Object.entries(summary.headline)
        .map(([key, value]) => `${key.replaceAll('_', ' ')} ${formatNumber(value)}`)
        .join(' · ')}`,
    );
  }
  out.push(
    '',
    'Tasks',
    table(
      ['task', 'status', 'time'],
      summary.tasks.map((task) => [task.id, task.status, seconds(task.durationMs)]),
    ),
  );
  const warnings = summary.quality.flatMap((profile) =>
    profile.warnings.map((warning) => `${profile.table}: ${warning}`),
  );
  if (warnings.length) out.push('', 'Quality warnings', ...warnings.map((warning) => `  ! ${warning}`));
  return out.join('\n');
}
