/**
 * What a fleet of processes on several machines can share. Runs name their own locations; a directory is on one
 * machine, so a worker that may run elsewhere than the scheduler does not execute runs that read or write one.
 */
import { ConfigError } from '../core/errors.js';
import type { RunLocations, RunRecord } from '../metadata/metadata-store.js';
import { isS3Url } from '../storage/s3-config.js';

/** The first of the locations that is a local directory, named `lake` or `source`; undefined when none is. */
function localLocation(locations: RunLocations): { role: 'lake' | 'source'; location: string } | undefined {
  if (!isS3Url(locations.lake)) return { role: 'lake', location: locations.lake };
  if (locations.source !== null && !isS3Url(locations.source))
    return { role: 'source', location: locations.source };
  return undefined;
}

/** Why a process of a several-machine fleet may not execute the run (a local lake or source), or undefined. */
export function oneMachineLocations(run: RunRecord): string | undefined {
  const local = run.locations && localLocation(run.locations);
  if (!local) return undefined;
  return (
    `its ${local.role} ${local.location} is a directory on one machine, which processes on other machines cannot ` +
    `share: give the pipeline an s3:// ${local.role}, or start every process on this machine with --single-host`
  );
}

/** At a worker's start: a pipeline of its project bound to a local directory is refused, saying what to change. */
export function refuseOneMachineLocations(pipeline: string, locations: RunLocations | undefined): void {
  const local = locations && localLocation(locations);
  if (!local) return;
  throw new ConfigError(
    `the ${local.role} of pipeline ${pipeline}, ${local.location}, is a directory on this machine, which workers ` +
      'on other machines cannot share',
    {
      context: { field: `pipelines.${pipeline}.${local.role}` },
      hint: `give it an s3:// ${local.role} in the project file, or pass --single-host when every medallion process runs on this machine`,
    },
  );
}
