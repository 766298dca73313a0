// The speedup plot of `mr bench`: speedup against workers, one line per backend, with the ideal
// (linear) line; a vega-lite spec rendered to SVG by vega (no browser, no canvas), then to PNG
// by resvg.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface SpeedupPoint {
  backend: string;
  workers: number;
  speedup: number;
}

export async function speedupPlot(points: SpeedupPoint[], title: string): Promise<{ svg: string; png: Buffer }> {
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
