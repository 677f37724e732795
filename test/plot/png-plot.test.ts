import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { niceTicks, renderPlot } from '../../shared/plot/png-plot.js';

test('a plot is a PNG of the requested size with the series drawn in its colour', () => {
  const png = renderPlot(
    [
      {
        x: [3, 5, 8, 20, 50],
        y: [0.1, 0.5, 0.9, 1, 1],
        yErr: [0.05, 0.05, 0.03, 0, 0],
        style: 'both',
        color: [255, 0, 0],
        label: 'fakes',
      },
    ],
    {
      width: 400,
      height: 300,
      xLog: true,
      yRange: [0, 1.05],
      title: 'Completeness',
      xLabel: 'SNR',
      yLabel: 'fraction',
      hLines: [0.5],
    },
  );
  const image = PNG.sync.read(png);
  assert.equal(image.width, 400);
  assert.equal(image.height, 300);
  let red = 0;
  let black = 0;
  for (let k = 0; k < image.data.length; k += 4) {
    const [r, g, b] = [image.data[k], image.data[k + 1], image.data[k + 2]];
    if (r === 255 && g === 0 && b === 0) red++;
    if (r === 0 && g === 0 && b === 0) black++;
  }
  assert.ok(red > 100, `${red} red pixels`);
  assert.ok(black > 500, `${black} black pixels (axes and text)`);
});

test('tick values are round and cover the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3, 50, 5), [10, 20, 30, 40, 50]);
});
