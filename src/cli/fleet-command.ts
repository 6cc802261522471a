/** `medallion workers`: the processes of the fleet, what each serves and runs now, and when it was last heard of. */
import { listFleet } from '../app/fleet.js';
import { ago, print, when } from './output.js';
import { withStore, type StoreFlags } from './project-context.js';
import { table } from './render.js';

export interface WorkersFlags extends StoreFlags {
  /** Also those that stopped or went silent. */
  all?: boolean;
}

export async function workersCommand(flags: WorkersFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const now = new Date();
    const fleet = await listFleet(store, { includeStopped: flags.all ?? false, now });
    print(flags.json, fleet, () =>
      fleet.length === 0
        ? `no live medallion process${flags.all ? '' : ' (--all shows those gone)'}`
        : table(
            ['process', 'kind', 'host', 'queues', 'slots', 'running', 'last seen', 'state'],
            fleet.map((process) => [
              process.id,
              process.kind,
              process.host,
              process.queues === null ? '— (schedules only)' : process.queues.join(', '),
              process.slots === null ? '—' : String(process.slots),
              String(process.runningTries),
              `${ago(process.heartbeatAt, now.getTime())} ago (${when(process.heartbeatAt)})`,
              process.state,
            ]),
            ['kind', 'host', 'queues', 'last seen', 'state'],
          ),
    );
  });
}
