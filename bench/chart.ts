// The benchmark's PNG: wall time per method, one panel per workload (own scale each), then the targets.
import { Raster, type Color } from './png.js';
import { findRun, methodLabels, methods, workloadLabels, workloads, type BenchResult, type Method } from './report.js';

const colors: Record<Method, Color> = {
  sown: [150, 150, 150],
  planb: [100, 100, 100],
  'bare-nometa': [140, 180, 220],
  bare: [70, 130, 180],
  'tidemark-seq': [240, 160, 40],
  tidemark: [210, 80, 40],
};

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

const formatSeconds = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

export function renderChart(result: BenchResult): Buffer {
  const overheadLine = `per-host overhead (median, Tidemark 1 at a time - bare): ${workloads
    .filter((workload) => result.overhead[workload])
    .map(
      (workload) =>
        `${workloadLabels[workload]} ${result.overhead[workload]!.medianMs.toFixed(0)} ms (${result.overhead[workload]!.medianPercent.toFixed(1)}%)`,
    )
    .join(', ')}`;
  const targetLine = (target: BenchResult['targets'][number]) =>
    `${target.description}: ${target.measured} (target ${target.limit})`;
  // Wide enough for the longest text line, so no verdict is cut off at the edge.
  const width = Math.ceil(
    Math.max(
      1560,
      40 + Raster.textWidth(overheadLine, 2),
      ...result.targets.map((target) => 100 + Raster.textWidth(targetLine(target), 2)),
    ),
  );
  const panelTop = 80;
  const panelHeight = 380;
  const targetLines = result.targets.length;
  const height = panelTop + panelHeight + 150 + targetLines * 22 + 20;
  const image = new Raster(width, height);
  const c = result.config;
  image.text(20, 16, `Tidemark bench: wall time per method (s)`, [0, 0, 0], 3);
  image.text(
    20,
    50,
    `${c.hosts} hosts x ${result.fleet.perHost.files} files, ${(result.fleet.totalMiB / c.hosts).toFixed(0)} MiB each; concurrency ${c.concurrency}; ` +
      `${result.machine.nproc} cores ${result.machine.cpuModel}; kernel ${result.machine.kernel}`,
    [60, 60, 60],
    2,
  );

  const shown = methods.filter((method) => result.runs.some((run) => run.method === method));
  const panels = c.workloads;
  const panelWidth = (width - 40) / panels.length;
  panels.forEach((workload, panelIndex) => {
    const left = 20 + panelIndex * panelWidth + 70;
    const plotWidth = panelWidth - 100;
    const runs = shown.map((method) => findRun(result, method, workload));
    const max = niceMax(Math.max(...runs.map((run) => (run ? run.wallMs / 1000 : 0))));
    const bottom = panelTop + panelHeight - 20;
    const plotHeight = panelHeight - 70;
    image.text(left, panelTop, workloadLabels[workload].toUpperCase(), [0, 0, 0], 2);
    // axis and grid
    for (let tick = 0; tick <= 4; tick++) {
      const y = bottom - (plotHeight * tick) / 4;
      image.rect(left, y, plotWidth, 1, [225, 225, 225]);
      const label = formatSeconds((max * tick) / 4);
      image.text(left - 8 - Raster.textWidth(label, 2), y - 6, label, [90, 90, 90], 2);
    }
    image.rect(left, bottom, plotWidth, 2, [0, 0, 0]);
    image.rect(left, bottom - plotHeight, 2, plotHeight, [0, 0, 0]);
    const slot = plotWidth / shown.length;
    runs.forEach((run, index) => {
      if (!run) return;
      const value = run.wallMs / 1000;
      const barHeight = (value / max) * plotHeight;
      const x = left + index * slot + slot * 0.15;
      image.rect(x, bottom - barHeight, slot * 0.7, barHeight, colors[shown[index]!]);
      const label = formatSeconds(value);
      image.text(x + (slot * 0.7 - Raster.textWidth(label, 2)) / 2, bottom - barHeight - 20, label, [0, 0, 0], 2);
    });
  });

  // legend
  let legendX = 20;
  let legendY = panelTop + panelHeight + 10;
  for (const method of shown) {
    const label = methodLabels[method] + (method === 'tidemark' ? ` (c=${c.concurrency})` : '');
    if (legendX + 22 + Raster.textWidth(label, 2) > width - 10) {
      legendX = 20;
      legendY += 24;
    }
    image.rect(legendX, legendY, 16, 14, colors[method]);
    image.text(legendX + 22, legendY, label, [0, 0, 0], 2);
    legendX += 22 + Raster.textWidth(label, 2) + 30;
  }

  // overhead and targets
  let y = legendY + 40;
  image.text(20, y, overheadLine, [0, 0, 0], 2);
  y += 30;
  for (const target of result.targets) {
    const verdict = target.pass === null ? 'N/A ' : target.pass ? 'PASS' : 'MISS';
    const color: Color = target.pass === null ? [120, 120, 120] : target.pass ? [20, 140, 40] : [200, 30, 30];
    image.text(20, y, verdict, color, 2);
    image.text(80, y, targetLine(target), [0, 0, 0], 2);
    y += 22;
  }
  return image.png();
}
