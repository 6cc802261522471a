/**
 * A chart drawn by ECharts (only the parts medallion's pages use: lines, bars, axes, legend, tooltip, canvas), in the
 * colours of the current theme, redrawn when the theme changes or the box is resized. Import it only from pages
 * loaded with React.lazy: it carries ECharts. The caption says in words what the chart holds, for screen readers
 * (the canvas is described by it) and for tests.
 */
import { BarChart, LineChart, type BarSeriesOption, type LineSeriesOption } from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  type GridComponentOption,
  type LegendComponentOption,
  type TooltipComponentOption,
} from 'echarts/components';
import { init, use as register, type ComposeOption, type ECharts } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useId, useRef, useState } from 'react';
import './EChart.css';

register([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export type ChartOption = ComposeOption<
  LineSeriesOption | BarSeriesOption | GridComponentOption | LegendComponentOption | TooltipComponentOption
>;

interface Colours {
  fg: string;
  muted: string;
  border: string;
  bg: string;
  palette: string[];
}

function themeColours(): Colours {
  const style = getComputedStyle(document.documentElement);
  const read = (name: string) => style.getPropertyValue(name).trim();
  return {
    fg: read('--fg'),
    muted: read('--muted'),
    border: read('--border'),
    bg: read('--bg-soft'),
    palette: [1, 2, 3, 4, 5, 6, 7, 8].map((index) => read(`--chart-${index}`)),
  };
}

/** Bumps whenever the Shell switches between light and dark. */
function useThemeChanges(): number {
  const [changes, setChanges] = useState(0);
  useEffect(() => {
    const observer = new MutationObserver(() => setChanges((count) => count + 1));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => observer.disconnect();
  }, []);
  return changes;
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
  const chart = useRef<ECharts | undefined>(undefined);
  const captionId = useId();
  const themeChanges = useThemeChanges();

  useEffect(() => {
    const element = box.current;
    if (!element) return undefined;
    const instance = init(element, undefined, { renderer: 'canvas' });
    chart.current = instance;
    const resize = new ResizeObserver(() => instance.resize());
    resize.observe(element);
    return () => {
      resize.disconnect();
      instance.dispose();
      chart.current = undefined;
    };
  }, []);

  useEffect(() => {
    chart.current?.setOption(themed(option, themeColours()), { notMerge: true });
  }, [option, themeChanges]);

  return (
    <figure className="chart">
      <h3>{title}</h3>
      <div ref={box} role="img" aria-label={title} aria-describedby={captionId} style={{ height }} />
      <figcaption id={captionId}>{summary}</figcaption>
    </figure>
  );
}
