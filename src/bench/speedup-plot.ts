// The speedup plot of `mr bench`: speedup against workers, one line per backend, with the ideal
// (linear) line; a vega-lite spec rendered to SVG by vega (no browser, no canvas), then to PNG
// by resvg. Those three packages are optional dependencies, loaded only here: without them there
// is no plot, and the figures are all in the JSON and the table.
import type { TopLevelSpec } from 'vega-lite';

/** How to get the plot where its packages are missing. */
export const PLOT_PACKAGES_HINT = 'npm install vega vega-lite @resvg/resvg-js';

export interface SpeedupPoint {
  backend: string;
  workers: number;
  speedup: number;
}

/** The plot as SVG and PNG, or undefined when its optional packages are not installed. */
export async function speedupPlot(points: SpeedupPoint[], title: string): Promise<{ svg: string; png: Buffer } | undefined> {
  const packages = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]).catch(() => undefined);
  if (!packages) return undefined;
  const [vega, { compile }, { Resvg }] = packages;
  const measured = points.filter((p) => Number.isFinite(p.speedup));
  const counts = [...new Set(measured.map((p) => p.workers))].sort((a, b) => a - b);
  const base = counts[0] ?? 1;
  const ideal = counts.map((workers) => ({ backend: 'ideal', workers, speedup: workers / base }));
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 480,
    height: 320,
    background: 'white',
    data: { values: [...ideal, ...measured] },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'workers', type: 'quantitative', title: 'workers', scale: { type: 'log', base: 2 }, axis: { values: counts, format: 'd' } },
      y: { field: 'speedup', type: 'quantitative', title: 'speedup' },
      color: { field: 'backend', type: 'nominal', title: 'backend' },
      strokeDash: { condition: { test: "datum.backend === 'ideal'", value: [4, 4] }, value: [1, 0] },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true } }).render().asPng();
  return { svg, png: Buffer.from(png) };
}
