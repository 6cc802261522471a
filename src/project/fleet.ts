/**
 * What a fleet of processes on several machines can share. Runs name their own locations; a directory is on one
 * machine, so a worker that may run elsewhere than the scheduler does not execute runs that read or write one.
 */
import type { RunRecord } from '../metadata/metadata-store.js';
import { isS3Url } from '../storage/s3-config.js';

/** Why a process of a several-machine fleet may not execute the run (a local lake or source), or undefined. */
export function oneMachineLocations(run: RunRecord): string | undefined {
  const locations = run.locations;
  if (!locations) return undefined;
  const local = [
    ['lake', locations.lake],
    ['source', locations.source],
  ].find(([, location]) => location !== null && location !== undefined && !isS3Url(location));
  if (!local) return undefined;
  return (
    `its ${local[0]} ${local[1]} is a directory on one machine, which processes on other machines cannot share: ` +
    `give the pipeline an s3:// ${local[0]}, or start every process on this machine with --single-host`
  );
}
