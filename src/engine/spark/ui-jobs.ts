/**
 * The jobs a Spark Connect session ran, from the Spark UI's REST API. Spark Connect's protocol names no job: its
 * progress reports name stages only, and only those the server saw before an operation ended. The UI knows every
 * job, each tagged with the session and operation that ran it.
 */
import { z } from 'zod';

const jobsSchema = z.array(
  z.object({
    jobId: z.number().int(),
    stageIds: z.array(z.number().int()),
    jobTags: z.array(z.string()).optional(),
  }),
);

export interface SessionJobs {
  jobIds: number[];
  /** Every stage of those jobs, skipped ones (whose output an earlier job had) included. */
  stageIds: number[];
}

/** How long the UI has to answer: the try is over, and its log waits for this. */
const TIMEOUT_MS = 5_000;

/** The jobs of the session, in id order; fails when the UI does not answer as Spark's REST API does. */
export async function sessionJobs(uiUrl: string, appId: string, sessionId: string): Promise<SessionJobs> {
  const url = `${uiUrl.replace(/\/+$/, '')}/api/v1/applications/${encodeURIComponent(appId)}/jobs`;
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  const parsed = jobsSchema.safeParse(await response.json());
  if (!parsed.success) throw new Error(`${url} did not answer with Spark jobs: ${parsed.error.message}`);
  // Spark Connect tags each job SparkConnect_OperationTag_User_<user>_Session_<session>_Operation_<operation>.
  const marker = `_Session_${sessionId}_`;
  const mine = parsed.data
    .filter((job) => job.jobTags?.some((tag) => tag.startsWith('SparkConnect_') && tag.includes(marker)))
    .sort((a, b) => a.jobId - b.jobId);
  return {
    jobIds: mine.map((job) => job.jobId),
    stageIds: [...new Set(mine.flatMap((job) => job.stageIds))].sort((a, b) => a - b),
  };
}
