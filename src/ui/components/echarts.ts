/**
 * The one ECharts set-up of the UI: only the parts medallion's charts use (lines, bars, the Gantt's custom series,
 * grid, legend, tooltip) and one renderer, SVG, whose shapes are in the page for the browser tests to find. Import it
 * only from pages loaded with React.lazy: it carries ECharts.
 */
import {
  BarChart,
  CustomChart,
  LineChart,
  type BarSeriesOption,
  type CustomSeriesOption,
  type LineSeriesOption,
} from 'echarts/charts';
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  type GridComponentOption,
  type LegendComponentOption,
  type TooltipComponentOption,
} from 'echarts/components';
import {
  init,
  use as register,
  type ComposeOption,
  type ECElementEvent,
  type EChartsType,
} from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { useEffect, useRef, useState, type RefObject } from 'react';

register([LineChart, BarChart, CustomChart, GridComponent, LegendComponent, TooltipComponent, SVGRenderer]);

export { graphic } from 'echarts/core';

export type ChartOption = ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | CustomSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | TooltipComponentOption
>;

/**
 * The values of CSS variables of the current theme (ECharts needs colours as values), read again whenever the
 * Shell switches between light and dark.
 */
export function useThemeVariables<Names extends Record<string, string>>(
  variables: Names,
): Record<keyof Names, string> {
  const read = () => {
    const style = getComputedStyle(document.documentElement);
    const entries = Object.entries(variables).map(([name, variable]) => [
      name,
      style.getPropertyValue(variable).trim(),
    ]);
    return Object.fromEntries(entries) as Record<keyof Names, string>;
  };
  const [values, setValues] = useState(read);
  useEffect(() => {
    const observer = new MutationObserver(() => setValues(read()));
    observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => observer.disconnect();
    // The variables' names are constants of the caller.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return values;
}

/**
 * A chart in `box` for the component's life, resized with its box, drawn anew whenever `option` changes; `onClick`
 * (the latest one given) hears clicks on its items.
 */
export function useChart(
  box: RefObject<HTMLDivElement | null>,
  option: ChartOption,
  onClick?: (event: ECElementEvent) => void,
): void {
  const chart = useRef<EChartsType | undefined>(undefined);
  const click = useRef(onClick);
  useEffect(() => {
    click.current = onClick;
  });
  useEffect(() => {
    const element = box.current;
    if (!element) return undefined;
    const instance = init(element, undefined, { renderer: 'svg' });
    instance.on('click', (event) => click.current?.(event));
    chart.current = instance;
    const resize = new ResizeObserver(() => instance.resize());
    resize.observe(element);
    return () => {
      resize.disconnect();
      instance.dispose();
      chart.current = undefined;
    };
  }, [box]);
  useEffect(() => {
    chart.current?.setOption(option, { notMerge: true });
  }, [option]);
}
