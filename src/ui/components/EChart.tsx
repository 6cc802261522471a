/**
 * A titled chart (see echarts.ts) in the colours of the current theme. The caption says in words what the chart
 * holds, for screen readers (the drawing is described by it) and for tests.
 */
import { useId, useMemo, useRef } from 'react';
import { useChart, useThemeVariables, type ChartOption } from './echarts.js';
import './EChart.css';

export type { ChartOption } from './echarts.js';

const VARIABLES: Record<string, string> = {
  fg: '--fg',
  muted: '--muted',
  border: '--border',
  bg: '--bg-soft',
  ...Object.fromEntries([1, 2, 3, 4, 5, 6, 7, 8].map((index) => [`chart${index}`, `--chart-${index}`])),
};

interface Colours {
  fg: string;
  muted: string;
  border: string;
  bg: string;
  palette: string[];
}

function useColours(): Colours {
  const values = useThemeVariables(VARIABLES);
  return useMemo(
    () => ({
      fg: values.fg ?? '',
      muted: values.muted ?? '',
      border: values.border ?? '',
      bg: values.bg ?? '',
      palette: [1, 2, 3, 4, 5, 6, 7, 8].map((index) => values[`chart${index}`] ?? ''),
    }),
    [values],
  );
}

function themedAxis<Axis extends ChartOption['xAxis'] | ChartOption['yAxis']>(
  axis: Axis,
  colours: Colours,
): Axis {
  const style = (one: object) => ({
    axisLine: { lineStyle: { color: colours.border } },
    axisLabel: { color: colours.muted },
    splitLine: { lineStyle: { color: colours.border } },
    nameTextStyle: { color: colours.muted },
    ...one,
  });
  if (Array.isArray(axis)) return axis.map(style) as Axis;
  return axis ? (style(axis) as Axis) : axis;
}

function themed(option: ChartOption, colours: Colours): ChartOption {
  return {
    color: colours.palette,
    backgroundColor: 'transparent',
    textStyle: { color: colours.fg },
    animation: false,
    grid: { left: 8, right: 16, top: 28, bottom: 32, containLabel: true },
    legend: {
      type: 'scroll',
      bottom: 0,
      pageIconColor: colours.fg,
      pageIconInactiveColor: colours.border,
      textStyle: { color: colours.fg },
      pageTextStyle: { color: colours.fg },
    },
    ...option,
    tooltip: {
      trigger: 'axis',
      backgroundColor: colours.bg,
      borderColor: colours.border,
      textStyle: { color: colours.fg },
      ...(option.tooltip as object),
    },
    xAxis: themedAxis(option.xAxis, colours),
    yAxis: themedAxis(option.yAxis, colours),
  };
}

export function EChart({
  title,
  summary,
  option,
  height = 260,
}: {
  title: string;
  /** What the chart holds, in words ("12 runs, 3 layers"). */
  summary: string;
  option: ChartOption;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const captionId = useId();
  const colours = useColours();
  useChart(
    box,
    useMemo(() => themed(option, colours), [option, colours]),
  );

  return (
    <figure className="chart">
      <h3>{title}</h3>
      <div ref={box} role="img" aria-label={title} aria-describedby={captionId} style={{ height }} />
      <figcaption id={captionId}>{summary}</figcaption>
    </figure>
  );
}
