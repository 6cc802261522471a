/** Layered left-to-right layout by elkjs, loaded only when a graph is first drawn (it is large). */
import type { ElkNode } from 'elkjs/lib/elk-api.js';

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 54;

export interface Layout {
  positions: Record<string, { x: number; y: number }>;
  width: number;
  height: number;
}

let elk: Promise<{ layout(graph: ElkNode): Promise<ElkNode> }> | undefined;

export async function layeredLayout(
  ids: readonly string[],
  edges: readonly { from: string; to: string }[],
): Promise<Layout> {
  elk ??= import('elkjs/lib/elk.bundled.js').then(({ default: ELK }) => new ELK());
  const engine = await elk;
  const graph = await engine.layout({
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.layered.spacing.nodeNodeBetweenLayers': '48',
      'elk.spacing.nodeNode': '16',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    },
    children: ids.map((id) => ({ id, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: edges.map((edge, index) => ({ id: `e${index}`, sources: [edge.from], targets: [edge.to] })),
  });
  return {
    positions: Object.fromEntries(
      (graph.children ?? []).map((node) => [node.id, { x: node.x ?? 0, y: node.y ?? 0 }]),
    ),
    width: graph.width ?? 0,
    height: graph.height ?? 0,
  };
}
