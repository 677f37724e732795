// The WASM-trainable convolution's gradients against the CPU backend's native conv2d gradients.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initTf, tf } from '../../shared/tf/backend.js';
import { trainableConv2d } from '../../shared/rb/conv.js';

function maxRelativeError(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let scale = 0;
  for (const v of y) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]) / scale);
  return worst;
}

for (const backend of ['cpu', 'wasm'] as const) {
  for (const [stride, kernel, size] of [
    [1, 3, 11],
    [2, 5, 13],
    [2, 5, 51],
  ] as const) {
    test(`${backend}: stride ${stride}, ${kernel}x${kernel} on ${size}x${size}: gradients match native conv2d on cpu to 1e-4`, async () => {
      await initTf('cpu', () => {});
      const x = tf.randomNormal([3, size, size, 4], 0, 1, 'float32', 7) as tf.Tensor4D;
      const w = tf.randomNormal([kernel, kernel, 4, 5], 0, 0.3, 'float32', 8) as tf.Tensor4D;
      const weight = tf.randomNormal(tf.conv2d(x, w, stride, 'valid').shape, 0, 1, 'float32', 9);
      const loss =
        (conv: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor4D) => (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), weight));
      const [dxNative, dwNative] = tf.grads(loss((a, b) => tf.conv2d(a, b, stride, 'valid')))([
        x,
        w,
      ]);
      await initTf(backend, () => {});
      const [dx, dw] = tf.grads(loss((a, b) => trainableConv2d(a, b, stride)))([x, w]);
      assert.deepEqual(dw.shape, w.shape);
      assert.ok(
        maxRelativeError(dx, dxNative) < 1e-4,
        `input gradient off by ${maxRelativeError(dx, dxNative)}`,
      );
      assert.ok(
        maxRelativeError(dw, dwNative) < 1e-4,
        `filter gradient off by ${maxRelativeError(dw, dwNative)}`,
      );
    });
  }
}
