/**
 * Which pipeline a page looks at, kept in the URL (`?pipeline=`); the project's first pipeline by default. Choosing
 * another drops the page's other parameters (a run, a table… of the previous pipeline) but those named in `keep`.
 */
import { useSearchParams } from 'react-router';
import { usePipelines } from '../pages/PipelinesPage.js';
import './PipelinePicker.css';

export function usePipelineParam(keep: readonly string[] = []): {
  pipeline: string | undefined;
  names: string[];
  setPipeline: (name: string) => void;
} {
  const pipelines = usePipelines();
  const [params, setParams] = useSearchParams();
  const names = pipelines.data?.pipelines.map((pipeline) => pipeline.name) ?? [];
  return {
    pipeline: params.get('pipeline') ?? names[0],
    names,
    setPipeline: (name) =>
      setParams((current) => {
        const next = new URLSearchParams({ pipeline: name });
        for (const key of keep) {
          const value = current.get(key);
          if (value !== null) next.set(key, value);
        }
        return next;
      }),
  };
}

export function PipelinePicker({ pipeline, names, setPipeline }: ReturnType<typeof usePipelineParam>) {
  return (
    <label className="picker">
      Pipeline{' '}
      <select value={pipeline ?? ''} onChange={(event) => setPipeline(event.target.value)}>
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}
