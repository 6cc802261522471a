/** A try's log lines: read once when the try has ended, followed over Server-Sent Events while it runs. */
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { AttemptRecord } from '../../../metadata/metadata-store.js';
import { api } from '../../api/client.js';
import { useEventStream } from '../../api/sse.js';

const PAGE = 5_000;

export function logPath(runId: string, taskId: string): string {
  return `/api/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/log`;
}

async function readWholeLog(path: string, attempt: number): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const page = await api<{ lines: string[]; nextLine: number }>(
      `${path}?attempt=${attempt}&after=${lines.length}&limit=${PAGE}`,
    );
    lines.push(...page.lines);
    if (page.lines.length < PAGE) return lines;
  }
}

export interface TryLog {
  lines: string[];
  /** Lines are still coming (the try runs). */
  following: boolean;
  loading: boolean;
  error: Error | null;
}

/**
 * Whether to follow is decided once, when the try is shown (the component is keyed by task and try): a try seen
 * running is followed to its end, and its lines stay as the stream sent them.
 */
export function useTryLog(runId: string, taskId: string, attempt: AttemptRecord): TryLog {
  const path = logPath(runId, taskId);
  const [live] = useState(attempt.state === 'running');
  const [streamed, setStreamed] = useState<string[]>([]);
  const [ended, setEnded] = useState(false);
  const saved = useQuery({
    queryKey: ['log', runId, taskId, attempt.attempt],
    queryFn: () => readWholeLog(path, attempt.attempt),
    enabled: !live,
    // An ended try's log does not change.
    staleTime: Infinity,
  });
  useEventStream(live ? `${path}/stream?attempt=${attempt.attempt}` : undefined, {
    lines: (data) => setStreamed((lines) => [...lines, ...(JSON.parse(data) as string[])]),
    end: () => setEnded(true),
  });
  if (live) return { lines: streamed, following: !ended, loading: false, error: null };
  return { lines: saved.data ?? [], following: false, loading: saved.isPending, error: saved.error };
}
