/**
 * What the two graphs of a pipeline draw: its tasks with their dependencies, or its table lineage (sources → bronze
 * → silver → gold, as Dagster draws assets), each node with the state, in the selected run, of the task behind it.
 */
import type { PipelineDetail } from '../../../app/pipelines.js';
import type { TaskState } from '../../../core/run-state.js';
import type { TaskStates } from './queries.js';

export const GRAPH_VIEWS = ['tasks', 'lineage'] as const;
export type GraphView = (typeof GRAPH_VIEWS)[number];

// A type, not an interface: React Flow wants node data assignable to Record<string, unknown>.
export type GraphNode = {
  id: string;
  label: string;
  /** What it is: a task's kind, a table's layer. */
  kind: string;
  /** The task behind it (none for a source's files). */
  task: string | null;
  state: TaskState | null;
};

export interface GraphModel {
  nodes: GraphNode[];
  edges: { from: string; to: string }[];
}

type Shape = Pick<PipelineDetail, 'tasks' | 'lineage'>;

export function graphModel(pipeline: Shape, view: GraphView, states: TaskStates): GraphModel {
  const stateOf = (task: string | null) => (task === null ? null : (states[task] ?? null));
  if (view === 'lineage') {
    return {
      nodes: pipeline.lineage.nodes.map((node) => ({
        id: node.id,
        label: node.kind === 'source' ? `${node.id.slice('source.'.length)} (${node.name})` : node.id,
        kind: node.layer,
        task: node.task,
        state: stateOf(node.task),
      })),
      edges: pipeline.lineage.edges,
    };
  }
  return {
    nodes: pipeline.tasks.map((task) => ({
      id: task.id,
      label: task.id,
      kind: task.kind.replace('_', ' '),
      task: task.id,
      state: stateOf(task.id),
    })),
    edges: pipeline.tasks.flatMap((task) => task.dependsOn.map((from) => ({ from, to: task.id }))),
  };
}

/** What decides the layout: the nodes and edges, not their states (a run going on does not move anything). */
export function shapeKey(model: GraphModel): string {
  return JSON.stringify([model.nodes.map((node) => node.id), model.edges]);
}
