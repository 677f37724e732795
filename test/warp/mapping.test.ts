// The interpolated pixel mapping stays within 0.001 px of the exact WCS-to-WCS mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cdMatrix, makeTanWcs, wcsFromHeader } from '../../shared/wcs/index.js';
import {
  buildMapping,
  exactMapping,
  type GridFrame,
  type PixelMapping,
} from '../../shared/warp/index.js';

/** Bilinear interpolation of the node grid at output (x, y), written independently of resample.ts. */
function interpolate(m: PixelMapping, x: number, y: number): [number, number] {
  const cell = (nodes: Float64Array, v: number) => {
    let i = 0;
    while (i < nodes.length - 2 && v > nodes[i + 1]) i++;
    return [i, (v - nodes[i]) / (nodes[i + 1] - nodes[i])] as const;
  };
  const [i, tx] = cell(m.nodesX, x);
  const [j, ty] = cell(m.nodesY, y);
  const nx = m.nodesX.length;
  const at = (a: Float64Array) => {
    const k = j * nx + i;
    return (
      (1 - ty) * ((1 - tx) * a[k] + tx * a[k + 1]) +
      ty * ((1 - tx) * a[k + nx] + tx * a[k + nx + 1])
    );
  };
  return [at(m.srcX), at(m.srcY)];
}

const fixture = (name: string) =>
  wcsFromHeader(
    new Map(
      (
        JSON.parse(
          readFileSync(new URL(`../fixtures/wcs/${name}.json`, import.meta.url), 'utf8'),
        ) as { header: Array<[string, number | string]> }
      ).header,
    ),
  )!;

for (const name of ['sip-no-inverse', 'tpv-synthetic', 'tpv-decam']) {
  test(`${name} template onto a rotated TAN grid: interpolation error < 0.001 px at random points`, (t) => {
    const tplWcs = fixture(name);
    const centre = tplWcs.pixelToSky({ x: Float64Array.of(1024), y: Float64Array.of(1024) });
    const local = tplWcs.jacobian(1024, 1024);
    const out: GridFrame = {
      width: 2048,
      height: 2048,
      x0: 0,
      y0: 0,
      wcs: makeTanWcs({
        crpix: [1030.5, 1017.2],
        crval: [centre.ra[0], centre.dec[0]],
        cd: cdMatrix(local.pixelScaleArcsec, local.rotationDeg + 0.05),
      }),
    };
    const src: GridFrame = { width: 2048, height: 2048, x0: 0, y0: 0, wcs: tplWcs };
    const m = buildMapping(out, src, 64, 1e-3);
    let seed = 3;
    const uniform = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const xs = Float64Array.from({ length: 2000 }, () => uniform() * 2047);
    const ys = Float64Array.from({ length: 2000 }, () => uniform() * 2047);
    const exact = exactMapping(out, src, xs, ys);
    let worst = 0;
    for (let k = 0; k < xs.length; k++) {
      const [x, y] = interpolate(m, xs[k], ys[k]);
      worst = Math.max(worst, Math.hypot(x - exact.x[k], y - exact.y[k]));
    }
    t.diagnostic(
      `interpLength ${m.interpLength}: worst at random points ${worst.toExponential(2)} px, at cell centres ${m.maxErrorPx.toExponential(2)} px`,
    );
    assert.ok(worst < 1e-3, `interpolation error ${worst} px`);
  });
}
