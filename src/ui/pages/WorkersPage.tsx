/**
 * Workers: the medallion processes of the fleet (schedulers, workers, servers, runs), what each serves and runs now,
 * when it was last heard of; refreshed every few seconds. State in the URL: `all=true` shows those gone too.
 */
import { useQuery } from '@tanstack/react-query';
import type { ProcessView } from '../../app/fleet.js';
import { api } from '../api/client.js';
import { count, plural } from '../components/format.js';
import { Problem } from '../components/Problem.js';
import { ago, exactly, StateBadge } from '../components/states.js';
import { useSearchParam } from '../components/url-state.js';
import './WorkersPage.css';

/** How processes record that they claim from every queue. */
const EVERY_QUEUE = '*';

function queuesOf(process: ProcessView): string {
  if (process.queues === null) return 'schedules only';
  return process.queues.includes(EVERY_QUEUE) ? 'every queue' : process.queues.join(', ');
}

/** When it was last heard of: its heartbeat, or when it stopped. */
function LastSeen({ process, now }: { process: ProcessView; now: number }) {
  const at = process.stoppedAt ?? process.heartbeatAt;
  return (
    <time dateTime={at} title={exactly(at)}>
      {process.stoppedAt ? `stopped ${ago(at, now)}` : ago(at, now)}
    </time>
  );
}

/** What the live part of the fleet adds up to: how many, their slots, their tries, the queues they serve. */
function Summary({ fleet }: { fleet: ProcessView[] }) {
  const alive = fleet.filter((process) => process.state === 'alive');
  const executing = alive.filter((process) => process.queues !== null);
  const slots = executing.reduce((sum, process) => sum + (process.slots ?? 0), 0);
  const running = alive.reduce((sum, process) => sum + process.runningTries, 0);
  const queues = new Set(executing.flatMap((process) => process.queues ?? []));
  const served = queues.has(EVERY_QUEUE) ? 'every queue' : [...queues].sort().join(', ') || 'none';
  return (
    <p className="muted">
      {count(alive.length)} alive {alive.length === 1 ? 'process' : 'processes'}, {plural(slots, 'slot')},{' '}
      {count(running)} {running === 1 ? 'try' : 'tries'} running; queues served: {served}.
    </p>
  );
}

export function WorkersPage() {
  const [all, setAll] = useSearchParam('all');
  const showAll = all === 'true';
  const fleet = useQuery({
    queryKey: ['workers', showAll],
    queryFn: () => api<ProcessView[]>(`/api/workers?all=${showAll}`),
    refetchInterval: 5_000,
  });
  return (
    <section className="workers">
      <div className="workers-head">
        <h1>Workers</h1>
        <label className="switch">
          <input
            type="checkbox"
            checked={showAll}
            onChange={(event) => setAll(event.target.checked ? 'true' : null)}
          />
          Show stopped and dead ones
        </label>
      </div>
      {fleet.isPending && <p className="loading">Loading…</p>}
      <Problem error={fleet.error} />
      {fleet.data && <Summary fleet={fleet.data} />}
      {fleet.data?.length === 0 && (
        <p className="empty">
          No medallion process {showAll ? 'has been recorded' : 'is alive'}: <code>medallion scheduler</code>,{' '}
          <code>medallion worker</code> and <code>medallion serve</code> say here that they are.
        </p>
      )}
      {fleet.data && fleet.data.length > 0 && (
        <table className="list" aria-label="Processes">
          <thead>
            <tr>
              <th>Process</th>
              <th>Kind</th>
              <th>Host</th>
              <th>Pipelines</th>
              <th>Queues</th>
              <th className="number">Slots</th>
              <th className="number">Running</th>
              <th>Last seen</th>
              <th>State</th>
            </tr>
          </thead>
          <tbody>
            {fleet.data.map((process) => (
              <tr key={process.id}>
                <td className="process-id">{process.id}</td>
                <td>{process.kind}</td>
                <td>
                  {process.host} <span className="muted">pid {process.pid}</span>
                </td>
                <td>{process.pipelines.map((pipeline) => pipeline.name).join(', ') || '—'}</td>
                <td>{queuesOf(process)}</td>
                <td className="number">{count(process.slots)}</td>
                <td className="number">{count(process.runningTries)}</td>
                <td>
                  <LastSeen process={process} now={fleet.dataUpdatedAt} />
                </td>
                <td>
                  <StateBadge state={process.state} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
