/**
 * The Gantt of a run's tries, drawn by ECharts (only the parts it needs: a custom series on a grid, with tooltips,
 * see echarts.ts): a row per task, a bar per try coloured by how it ended, a thin line before it for the wait since it could
 * have started and a lighter lead-in for its last part, queued until a worker took it. A task waiting for a queue
 * no live worker serves says so beside its name. Clicking a bar selects that try.
 */
import type { CustomSeriesOption } from 'echarts/charts';
import { useMemo, useRef } from 'react';
import type { RunDetail } from '../../../app/runs.js';
import { graphic, useChart, useThemeVariables, type ChartOption } from '../../components/echarts.js';
import { span } from '../../components/states.js';
import { buildGantt, type Gantt, type GanttBar } from './gantt-model.js';

type RenderItem = NonNullable<CustomSeriesOption['renderItem']>;

/** The colours of styles.css the chart draws with. */
const VARIABLES = {
  success: '--success',
  failed: '--failed',
  running: '--running',
  skipped: '--skipped',
  up_for_retry: '--retry',
  cancelled: '--cancelled',
  waiting: '--queued',
  fg: '--fg',
  muted: '--muted',
  border: '--border',
  bg: '--bg-soft',
} as const;
type Colours = Record<keyof typeof VARIABLES, string>;

const escape = (text: string): string => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function tooltip(bar: GanttBar): string {
  const wait = bar.start - bar.readyAt;
  const queued = bar.queuedAt === null ? 0 : bar.start - bar.queuedAt;
  const lines = [
    `<strong>${escape(bar.task)}</strong>${bar.attempt ? ` · try ${bar.attempt.attempt}` : ''} · ${bar.outcome.replace('_', ' ')}`,
    bar.attempt ? `${bar.attempt.finishedAt ? 'took' : 'running for'} ${span(bar.end - bar.start)}` : '',
    wait > 0
      ? `${bar.attempt ? 'waited' : 'waiting for'} ${span(wait)} since it could start` +
        (queued > 0 ? `, ${span(queued)} of it queued for a worker` : '')
      : '',
    bar.waitingForQueue ? `waiting for queue ${escape(bar.waitingForQueue)}: no live worker serves it` : '',
    bar.attempt ? `on ${escape(bar.attempt.worker)}` : '',
    bar.attempt?.reason ? escape(bar.attempt.reason) : '',
  ];
  return lines.filter(Boolean).join('<br>');
}

/** Seconds since the origin on the time axis. */
function axisLabel(ms: number): string {
  return ms < 120_000 ? `${Number((ms / 1000).toFixed(2))} s` : `${Math.round(ms / 60_000)} min`;
}

const ROW_HEIGHT = 26;
const AXIS_HEIGHT = 40;

function chartOption(gantt: Gantt, colours: Colours): ChartOption {
  const { bars, origin } = gantt;
  const waitingForQueue = new Map(
    bars.flatMap((bar) => (bar.waitingForQueue ? [[bar.row, bar.waitingForQueue]] : [])),
  );
  const renderItem: RenderItem = (params, api) => {
    const bar = bars[params.dataIndex];
    if (!bar) return null;
    const row = api.value(0);
    const [readyX = 0, y = 0] = api.coord([api.value(1), row]);
    const [startX = 0] = api.coord([api.value(2), row]);
    const [endX = 0] = api.coord([api.value(3), row]);
    const [queuedX = startX] = api.coord([api.value(4), row]);
    const area = params.coordSys as unknown as { x: number; y: number; width: number; height: number };
    const height = ROW_HEIGHT * 0.6;
    const shapes = [
      { x: readyX, y: y - 1.5, width: queuedX - readyX, height: 3, fill: colours.waiting },
      // Queued, waiting for a worker: lighter, as tall as a try.
      {
        x: queuedX,
        y: y - height / 2,
        width: startX - queuedX,
        height,
        fill: colours.waiting,
        opacity: 0.45,
      },
      ...(bar.attempt
        ? [
            {
              x: startX,
              y: y - height / 2,
              width: Math.max(endX - startX, 2),
              height,
              fill: colours[bar.outcome === 'waiting' ? 'waiting' : bar.outcome],
            },
          ]
        : []),
    ];
    return {
      type: 'group',
      children: shapes.flatMap(({ fill, opacity = 1, ...rect }) => {
        const shape = rect.width > 0 ? graphic.clipRectByRect(rect, area) : undefined;
        return shape ? [{ type: 'rect' as const, shape, style: { fill, opacity } }] : [];
      }),
    };
  };
  return {
    animation: false,
    // The task names fit beside the bars, however long.
    grid: { left: 8, right: 24, top: 8, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    tooltip: {
      trigger: 'item',
      backgroundColor: colours.bg,
      borderColor: colours.border,
      textStyle: { color: colours.fg },
      formatter: (params) => {
        const bar = bars[(params as { dataIndex: number }).dataIndex];
        return bar ? tooltip(bar) : '';
      },
    },
    xAxis: {
      type: 'value',
      min: 0,
      axisLabel: { color: colours.muted, formatter: axisLabel },
      splitLine: { lineStyle: { color: colours.border } },
    },
    yAxis: {
      type: 'category',
      data: gantt.rows,
      inverse: true,
      axisLabel: {
        color: colours.fg,
        formatter: (task: string, row: number) => {
          const queue = waitingForQueue.get(row);
          return queue ? `${task} {queue|waiting for queue ${queue}}` : task;
        },
        rich: { queue: { color: colours.muted, fontStyle: 'italic' } },
      },
      axisLine: { lineStyle: { color: colours.border } },
      axisTick: { show: false },
    },
    series: [
      {
        type: 'custom',
        name: 'tries',
        renderItem,
        encode: { x: [1, 2, 3, 4], y: 0 },
        data: bars.map((bar) => [
          bar.row,
          bar.readyAt - origin,
          bar.start - origin,
          bar.end - origin,
          (bar.queuedAt ?? bar.start) - origin,
        ]),
      },
    ],
  };
}

export function RunGantt({
  detail,
  now,
  onSelect,
}: {
  detail: RunDetail;
  now: number;
  onSelect: (task: string, attempt: number | null) => void;
}) {
  const element = useRef<HTMLDivElement>(null);
  const colours = useThemeVariables(VARIABLES);
  // `now` ticks each second; a new detail (every half second while live) draws running tries to this instant.
  const gantt = useMemo(() => buildGantt(detail, Math.max(now, Date.now())), [detail, now]);
  useChart(
    element,
    useMemo(() => chartOption(gantt, colours), [gantt, colours]),
    (event) => {
      const bar = gantt.bars[event.dataIndex];
      if (bar) onSelect(bar.task, bar.attempt?.attempt ?? null);
    },
  );

  const tries = gantt.bars.filter((bar) => bar.attempt).length;
  return (
    <div
      ref={element}
      className="run-gantt"
      role="img"
      aria-label={`Gantt of ${tries} tries over ${gantt.rows.length} tasks (the task table below lists them)`}
      style={{ height: gantt.rows.length * ROW_HEIGHT + AXIS_HEIGHT }}
    />
  );
}
