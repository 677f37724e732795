/**
 * A tiny PNG plotter (pngjs): points, lines and vertical error bars on linear or logarithmic
 * axes, with ticks, labels and reference lines. Enough for diagnostic plots such as
 * completeness against SNR, with no plotting library.
 * @example
 *   const png = renderPlot([{ x: [3, 5, 8], y: [0.1, 0.5, 1], style: 'both' }], { xLabel: 'SNR', yLabel: 'completeness' });
 *   writeFileSync('plot.png', png);
 */
import { PNG } from 'pngjs';
import { GLYPH_WIDTH, glyph } from './font.js';

export type Rgb = readonly [number, number, number];

export interface PlotSeries {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Symmetric 1-sigma errors on y, drawn as vertical bars. */
  yErr?: ArrayLike<number>;
  style?: 'points' | 'line' | 'both';
  color?: Rgb;
  /** Legend text. */
  label?: string;
}

export interface PlotOptions {
  width: number;
  height: number;
  title: string;
  xLabel: string;
  yLabel: string;
  /** Axis limits; default the data's range. */
  xRange?: [number, number];
  yRange?: [number, number];
  xLog: boolean;
  /** Dashed reference lines. */
  hLines: number[];
  vLines: number[];
}

export const DEFAULT_PLOT_OPTIONS: PlotOptions = {
  width: 720,
  height: 480,
  title: '',
  xLabel: '',
  yLabel: '',
  xLog: false,
  hLines: [],
  vLines: [],
};

const PALETTE: Rgb[] = [
  [31, 119, 180],
  [214, 39, 40],
  [44, 160, 44],
  [255, 127, 14],
  [148, 103, 189],
];
const MARGIN = { left: 70, right: 20, top: 40, bottom: 50 };

class Canvas {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }

  set(x: number, y: number, [r, g, b]: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const k = (yi * this.width + xi) * 4;
    this.png.data[k] = r;
    this.png.data[k + 1] = g;
    this.png.data[k + 2] = b;
    this.png.data[k + 3] = 255;
  }

  line(x0: number, y0: number, x1: number, y1: number, color: Rgb, dash = 0): void {
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let i = 0; i <= n; i++) {
      if (dash > 0 && Math.floor(i / dash) % 2 === 1) continue;
      this.set(x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, color);
    }
  }

  disc(x: number, y: number, radius: number, color: Rgb): void {
    for (let dy = -radius; dy <= radius; dy++)
      for (let dx = -radius; dx <= radius; dx++)
        if (dx * dx + dy * dy <= radius * radius + 1) this.set(x + dx, y + dy, color);
  }

  text(
    x: number,
    y: number,
    text: string,
    color: Rgb,
    scale = 1,
    align: 'left' | 'center' | 'right' = 'left',
  ): void {
    const w = text.length * (GLYPH_WIDTH + 1) * scale;
    const left = align === 'left' ? x : align === 'center' ? x - w / 2 : x - w;
    [...text].forEach((ch, c) => {
      glyph(ch).forEach((bits, row) => {
        for (let col = 0; col < GLYPH_WIDTH; col++) {
          if (!(bits & (1 << (GLYPH_WIDTH - 1 - col)))) continue;
          for (let sy = 0; sy < scale; sy++)
            for (let sx = 0; sx < scale; sx++)
              this.set(
                left + (c * (GLYPH_WIDTH + 1) + col) * scale + sx,
                y + row * scale + sy,
                color,
              );
        }
      });
    });
  }
}

/** Round tick values covering [lo, hi] (about `count` of them). */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  const raw = (hi - lo) / count;
  const step =
    [1, 2, 2.5, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw) ??
    raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
    }
  }
  return ticks;
}

function range(series: PlotSeries[], key: 'x' | 'y', positive: boolean): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s[key].length; i++) {
      const v = s[key][i];
      if (!Number.isFinite(v) || (positive && v <= 0)) continue;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!Number.isFinite(lo)) return positive ? [1, 10] : [0, 1];
  if (lo === hi) return positive ? [lo / 2, hi * 2] : [lo - 1, hi + 1];
  return [lo, hi];
}

/** Renders the series to PNG bytes. */
export function renderPlot(series: PlotSeries[], overrides: Partial<PlotOptions> = {}): Buffer {
  const o: PlotOptions = { ...DEFAULT_PLOT_OPTIONS, ...overrides };
  const canvas = new Canvas(o.width, o.height);
  const [x0, x1] = o.xRange ?? range(series, 'x', o.xLog);
  const [y0, y1] = o.yRange ?? range(series, 'y', false);
  const plotW = o.width - MARGIN.left - MARGIN.right;
  const plotH = o.height - MARGIN.top - MARGIN.bottom;
  const fx = o.xLog
    ? (v: number) => (Math.log(v) - Math.log(x0)) / (Math.log(x1) - Math.log(x0))
    : (v: number) => (v - x0) / (x1 - x0);
  const px = (v: number): number => MARGIN.left + fx(v) * plotW;
  const py = (v: number): number => MARGIN.top + (1 - (v - y0) / (y1 - y0)) * plotH;
  const black: Rgb = [0, 0, 0];
  const grey: Rgb = [150, 150, 150];

  for (const v of o.xLog ? logTicks(x0, x1) : niceTicks(x0, x1)) {
    canvas.line(px(v), MARGIN.top + plotH, px(v), MARGIN.top + plotH + 5, black);
    canvas.text(px(v), MARGIN.top + plotH + 9, String(v), black, 1, 'center');
  }
  for (const v of niceTicks(y0, y1)) {
    canvas.line(MARGIN.left - 5, py(v), MARGIN.left, py(v), black);
    canvas.text(MARGIN.left - 8, py(v) - 3, String(v), black, 1, 'right');
  }
  for (const v of o.hLines)
    if (v >= y0 && v <= y1) canvas.line(MARGIN.left, py(v), MARGIN.left + plotW, py(v), grey, 4);
  for (const v of o.vLines)
    if (v >= x0 && v <= x1) canvas.line(px(v), MARGIN.top, px(v), MARGIN.top + plotH, grey, 4);

  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const style = s.style ?? 'points';
    const inside = (i: number): boolean =>
      Number.isFinite(s.x[i]) && Number.isFinite(s.y[i]) && (!o.xLog || s.x[i] > 0);
    for (let i = 0; i < s.x.length; i++) {
      if (!inside(i)) continue;
      if (s.yErr && Number.isFinite(s.yErr[i]))
        canvas.line(px(s.x[i]), py(s.y[i] - s.yErr[i]), px(s.x[i]), py(s.y[i] + s.yErr[i]), color);
      if (style !== 'line') canvas.disc(px(s.x[i]), py(s.y[i]), 3, color);
      if (style !== 'points' && i > 0 && inside(i - 1))
        canvas.line(px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), color);
    }
    if (s.label) {
      const ly = MARGIN.top + 8 + 14 * k;
      canvas.line(MARGIN.left + plotW - 150, ly + 3, MARGIN.left + plotW - 130, ly + 3, color);
      canvas.text(MARGIN.left + plotW - 124, ly, s.label, color);
    }
  });

  canvas.line(MARGIN.left, MARGIN.top, MARGIN.left, MARGIN.top + plotH, black);
  canvas.line(MARGIN.left, MARGIN.top + plotH, MARGIN.left + plotW, MARGIN.top + plotH, black);
  canvas.line(MARGIN.left, MARGIN.top, MARGIN.left + plotW, MARGIN.top, black);
  canvas.line(MARGIN.left + plotW, MARGIN.top, MARGIN.left + plotW, MARGIN.top + plotH, black);
  canvas.text(o.width / 2, 12, o.title, black, 2, 'center');
  canvas.text(MARGIN.left + plotW / 2, o.height - 18, o.xLabel, black, 1, 'center');
  canvas.text(8, MARGIN.top - 14, o.yLabel, black);
  return PNG.sync.write(canvas.png);
}
