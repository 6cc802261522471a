/**
 * A pipeline's task graph or table lineage drawn by React Flow, laid out by dagre: each node coloured by the state of
 * its task in the selected run, and a link to that task in the run. Loaded lazily (React Flow and dagre are large).
 */
import { useQuery } from '@tanstack/react-query';
import { Controls, Handle, Position, ReactFlow, type Edge, type Node, type NodeProps } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { Link } from 'react-router';
import { StateBadge } from '../../components/states.js';
import { shapeKey, type GraphModel, type GraphNode } from './graph-model.js';
import { layeredLayout, NODE_HEIGHT, NODE_WIDTH } from './layout.js';

type FlowNode = Node<GraphNode & { runId: string | undefined }, 'state'>;

function StateNode({ data }: NodeProps<FlowNode>) {
  const title =
    data.task && data.runId ? (
      <Link to={`/runs/${data.runId}?task=${encodeURIComponent(data.task)}`}>{data.label}</Link>
    ) : (
      data.label
    );
  return (
    <div
      className="graph-node"
      data-state={data.state ?? 'none'}
      style={{ width: NODE_WIDTH, height: NODE_HEIGHT }}
    >
      <Handle type="target" position={Position.Left} isConnectable={false} />
      <div className="graph-node-title" title={data.label}>
        {title}
      </div>
      <div className="graph-node-meta">
        <span>{data.kind}</span>
        {data.state && <StateBadge state={data.state} />}
      </div>
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const NODE_TYPES = { state: StateNode };

/** Room around the drawing, and the most height it takes. */
const MARGIN_PX = 40;
const MAX_HEIGHT_PX = 560;

export function PipelineGraph({
  model,
  runId,
  label,
}: {
  model: GraphModel;
  runId: string | undefined;
  label: string;
}) {
  const shape = shapeKey(model);
  const layout = useQuery({
    queryKey: ['layout', shape],
    queryFn: () =>
      layeredLayout(
        model.nodes.map((node) => node.id),
        model.edges,
      ),
    staleTime: Infinity,
  });
  if (layout.error)
    return (
      <p role="alert" className="error">
        Cannot lay the graph out: {layout.error.message}
      </p>
    );
  if (!layout.data) return <p className="loading">Laying the graph out…</p>;
  const { positions, width, height } = layout.data;
  const states = new Map(model.nodes.map((node) => [node.id, node.state]));
  const nodes: FlowNode[] = model.nodes.map((node) => ({
    id: node.id,
    type: 'state',
    position: positions[node.id] ?? { x: 0, y: 0 },
    data: { ...node, runId },
    ariaLabel: `${node.label}: ${node.state?.replace('_', ' ') ?? 'not in the run'}`,
  }));
  const edges: Edge[] = model.edges.map((edge) => ({
    id: `${edge.from}→${edge.to}`,
    source: edge.from,
    target: edge.to,
    animated: states.get(edge.to) === 'running',
  }));
  return (
    // As high as the drawing needs across the page's width, never drawn larger than life.
    <div
      className="pipeline-graph"
      aria-label={label}
      role="figure"
      style={{
        aspectRatio: `${width + 2 * MARGIN_PX} / ${height + 2 * MARGIN_PX}`,
        maxHeight: Math.min(MAX_HEIGHT_PX, height + 2 * MARGIN_PX),
      }}
    >
      <ReactFlow
        // A new shape is a new drawing: fit it to the view again.
        key={shape}
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        nodesDraggable={false}
        nodesConnectable={false}
        elementsSelectable={false}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        minZoom={0.2}
        proOptions={{ hideAttribution: true }}
      >
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
