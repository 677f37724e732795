import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseShared, sharedBuffer } from '../../shared/util/buffer-pool.js';
import { sharedCopy, toShared } from '../../shared/util/shared-plane.js';
import { Plane } from '../../shared/image/plane.js';

// Sizes of their own per test: the pool is per thread and these tests share this one.

test('a released buffer is reused, zeroed unless the caller overwrites it whole', () => {
  const a = new Float32Array(sharedBuffer(4 * 1001)).fill(7);
  releaseShared(a);
  const b = sharedBuffer(4 * 1001);
  assert.equal(b, a.buffer);
  assert.ok(new Float32Array(b).every((v) => v === 0));
  releaseShared(new Float32Array(b).fill(3));
  assert.ok(new Float32Array(sharedBuffer(4 * 1001, false)).every((v) => v === 3));
  assert.notEqual(sharedBuffer(4 * 1001), b, 'the pool is empty again');
});

test('shared planes take released buffers: toShared zeros, sharedCopy the pixels', () => {
  const [w, h] = [13, 7];
  const used = new Int32Array(sharedBuffer(4 * w * h)).fill(-1);
  releaseShared(used);
  const zeros = toShared({ width: w, height: h });
  assert.equal(zeros.buffer, used.buffer);
  assert.ok(new Float32Array(zeros.buffer).every((v) => v === 0));
  releaseShared(new Float32Array(zeros.buffer));
  const source = Plane.zeros(Float32Array, w + 4, h);
  source.data.forEach((_v, i, d) => (d[i] = i));
  const view = source.view({ x: 2, y: 0, width: w, height: h });
  const copy = sharedCopy(view);
  assert.equal(copy.data.buffer, used.buffer);
  for (let y = 0; y < h; y++) assert.deepEqual(copy.row(y), view.row(y));
});

test('views, plain buffers and a buffer released twice are not handed out again', () => {
  const whole = new Float32Array(sharedBuffer(4 * 1003));
  releaseShared(whole.subarray(1), new Float32Array(1003));
  assert.notEqual(sharedBuffer(4 * 1003), whole.buffer, 'a view released its buffer');
  releaseShared(whole, whole);
  assert.equal(sharedBuffer(4 * 1003), whole.buffer);
  assert.notEqual(sharedBuffer(4 * 1003), whole.buffer, 'released twice, handed out twice');
});
