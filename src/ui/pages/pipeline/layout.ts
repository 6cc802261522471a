/** Layered left-to-right layout by dagre (React Flow's own examples use it), loaded when a graph is first drawn. */
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 54;

export interface Layout {
  positions: Record<string, { x: number; y: number }>;
  width: number;
  height: number;
}

export async function layeredLayout(
  ids: readonly string[],
  edges: readonly { from: string; to: string }[],
): Promise<Layout> {
  const { graphlib, layout } = await import('@dagrejs/dagre');
  const graph = new graphlib.Graph();
  graph.setGraph({ rankdir: 'LR', ranksep: 48, nodesep: 16, marginx: 0, marginy: 0 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const id of ids) graph.setNode(id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of edges)
    if (graph.hasNode(edge.from) && graph.hasNode(edge.to)) graph.setEdge(edge.from, edge.to);
  layout(graph);
  const positions: Layout['positions'] = {};
  for (const id of ids) {
    // dagre places a node by its centre; React Flow by its top-left corner.
    const node = graph.node(id);
    positions[id] = { x: node.x - NODE_WIDTH / 2, y: node.y - NODE_HEIGHT / 2 };
  }
  const size = graph.graph();
  return { positions, width: size.width ?? 0, height: size.height ?? 0 };
}
