/** Cutouts that run off the image: pixels inside are copied (scaled to nJy), pixels outside are NaN with NO_DATA. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cutoutParts } from '../../shared/alerts/cutouts.js';
import { AB_MAG_OF_1_NJY } from '../../shared/association/calibration.js';
import { Exposure } from '../../shared/image/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';

test('cutouts at the corners and edges copy exactly what lies inside the image', () => {
  const parent = Exposure.blank(60, 50);
  for (let k = 0; k < 60 * 50; k++) {
    parent.image.data[k] = k;
    parent.variance.data[k] = 2 * k + 1;
    parent.mask.data[k] = k % 5;
  }
  const exposure = parent.view({ x: 3, y: 4, width: 50, height: 40 });
  exposure.info = { ...exposure.info, zeroPoint: 27 };
  const scale = 10 ** (-0.4 * (27 - AB_MAG_OF_1_NJY));
  for (const [x, y] of [
    [1.2, 38.6],
    [48.9, 0.4],
    [25, 20],
    [-3, 45],
  ]) {
    const size = 21;
    const p = cutoutParts(exposure, x, y, size, null);
    const x0 = Math.round(x) - 10;
    const y0 = Math.round(y) - 10;
    for (let j = 0; j < size; j++) {
      for (let i = 0; i < size; i++) {
        const [px, py] = [x0 + i, y0 + j];
        const inside = px >= 0 && px < 50 && py >= 0 && py < 40;
        const k = j * size + i;
        const where = `(${x}, ${y}) pixel ${i},${j}`;
        if (inside) {
          assert.equal(p.image[k], Math.fround(exposure.image.get(px, py) * scale), where);
          assert.equal(
            p.variance[k],
            Math.fround(exposure.variance.get(px, py) * scale * scale),
            where,
          );
          assert.equal(p.mask[k], exposure.mask.get(px, py), where);
        } else {
          assert.ok(Number.isNaN(p.image[k]) && Number.isNaN(p.variance[k]), where);
          assert.equal(p.mask[k], MaskPlane.NO_DATA, where);
        }
      }
    }
  }
});
