import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initTf, tf, tfBackendName } from '../shared/tf/backend.js';

test('a TF.js backend is chosen, logged and computes', async () => {
  const lines: string[] = [];
  const name = await initTf(undefined, (l) => lines.push(l));
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(name));
  assert.equal(tfBackendName(), name);
  assert.match(lines.join('\n'), new RegExp(`tfjs backend: ${name}`));
  const sum = tf.tidy(
    () =>
      tf
        .add(tf.tensor1d([1, 2, 3]), tf.tensor1d([0.5, 0.5, 0.5]))
        .sum()
        .dataSync()[0],
  );
  assert.equal(sum, 7.5);
});
