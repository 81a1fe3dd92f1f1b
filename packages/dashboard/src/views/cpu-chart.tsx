import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** One CPU reading of the job's machine: when (ms) and how busy (percent of all its cores). */
export interface CpuPoint {
  at: number;
  percent: number;
}

/**
 * The machine's CPU over the job (the agent's `cpu:sample` events), drawn by uPlot on a canvas;
 * for a screen reader, the same in words: the last reading and the average.
 */
export function CpuChart({ points }: { points: CpuPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const style = getComputedStyle(document.documentElement);
    const stroke = style.getPropertyValue('--accent').trim() || '#0b5cad';
    const axis = { stroke: style.getPropertyValue('--muted').trim() || '#4a4a4a', grid: { stroke: style.getPropertyValue('--line').trim() || '#d0d0d0' } };
    chart.current = new uPlot(
      {
        width: element.clientWidth || 600,
        height: 180,
        legend: { show: false },
        scales: { y: { range: [0, 100] } },
        axes: [axis, { ...axis, values: (_, ticks) => ticks.map((t) => `${t} %`) }],
        series: [{}, { label: 'CPU', stroke, width: 2, fill: `${stroke}22` }],
      },
      [[], []],
      element,
    );
    // The page is responsive: the chart follows its column's width.
    const resize = new ResizeObserver(() => chart.current?.setSize({ width: element.clientWidth, height: 180 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.current?.destroy();
      chart.current = undefined;
    };
  }, []);

  useEffect(() => {
    chart.current?.setData([points.map((p) => p.at / 1000), points.map((p) => p.percent)]);
  }, [points]);

  const last = points.at(-1);
  const average = points.length > 0 ? points.reduce((sum, p) => sum + p.percent, 0) / points.length : undefined;
  return (
    <section aria-label="CPU of the job's machine">
      <h3>CPU</h3>
      <div ref={box} class="chart" role="img" aria-label="CPU over time" data-points={points.length} />
      <p class="muted" data-testid="cpu-summary">
        {last === undefined ? 'No reading yet.' : `Now ${Math.round(last.percent)} %, ${Math.round(average!)} % on average over ${points.length} readings.`}
      </p>
    </section>
  );
}
