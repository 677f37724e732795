/**
 * The real/bogus network: a small VGG-like CNN at the scale of braai's VGG6 (Duev et al. 2019,
 * MNRAS 489, 3582), on 51 x 51 cutouts of CHANNELS planes (see cutouts.ts):
 *
 *   conv 5x5 stride 2, 12 filters, ReLU            51 -> 24
 *   conv 3x3, 24 filters, ReLU, max-pool 2         24 -> 22 -> 11
 *   conv 3x3, 48 filters, ReLU, max-pool 2         11 -> 9 -> 4
 *   dense 768 -> 48, ReLU; dense 48 -> 1, sigmoid
 *
 * Inference uses plain tf ops (the same on every backend); training swaps in trainableConv2d.
 */
import { tf } from '../tf/backend.js';
import { trainableConv2d } from './conv.js';
import { CHANNELS } from './cutouts.js';

/** Tensor names and shapes, in the order they are stored in the weights file. */
export const LAYER_SHAPES: ReadonlyArray<readonly [string, readonly number[]]> = [
  ['conv1/kernel', [5, 5, CHANNELS, 12]],
  ['conv1/bias', [12]],
  ['conv2/kernel', [3, 3, 12, 24]],
  ['conv2/bias', [24]],
  ['conv3/kernel', [3, 3, 24, 48]],
  ['conv3/bias', [48]],
  ['dense1/kernel', [4 * 4 * 48, 48]],
  ['dense1/bias', [48]],
  ['dense2/kernel', [48, 1]],
  ['dense2/bias', [1]],
];

export type NetworkWeights = Map<string, tf.Tensor>;

/** He-normal initial weights (He et al. 2015) drawn from `seed`; biases zero. */
export function initialWeights(seed: number): NetworkWeights {
  const weights: NetworkWeights = new Map();
  LAYER_SHAPES.forEach(([name, shape], i) => {
    if (name.endsWith('/bias')) {
      weights.set(name, tf.zeros(shape as number[]));
      return;
    }
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    weights.set(
      name,
      tf.truncatedNormal(shape as number[], 0, Math.sqrt(2 / fanIn), 'float32', seed + i),
    );
  });
  return weights;
}

/** Logits [B, 1] for normalised cutouts x [B, 51, 51, CHANNELS]. `training` selects the WASM-trainable convolution. */
export function logits(weights: NetworkWeights, x: tf.Tensor4D, training = false): tf.Tensor2D {
  const w = (name: string): tf.Tensor => {
    const t = weights.get(name);
    if (!t) throw new Error(`real/bogus weights lack ${name}`);
    return t;
  };
  const conv = (input: tf.Tensor4D, layer: string, stride: number): tf.Tensor4D => {
    const kernel = w(`${layer}/kernel`) as tf.Tensor4D;
    const out = training
      ? trainableConv2d(input, kernel, stride)
      : tf.conv2d(input, kernel, stride, 'valid');
    return tf.relu(tf.add(out, w(`${layer}/bias`))) as tf.Tensor4D;
  };
  let h = conv(x, 'conv1', 2);
  h = tf.maxPool(conv(h, 'conv2', 1), 2, 2, 'valid');
  h = tf.maxPool(conv(h, 'conv3', 1), 2, 2, 'valid');
  const flat = tf.reshape(h, [x.shape[0], -1]) as tf.Tensor2D;
  const hidden = tf.relu(
    tf.add(tf.matMul(flat, w('dense1/kernel') as tf.Tensor2D), w('dense1/bias')),
  ) as tf.Tensor2D;
  return tf.add(
    tf.matMul(hidden, w('dense2/kernel') as tf.Tensor2D),
    w('dense2/bias'),
  ) as tf.Tensor2D;
}

/** Number of trainable parameters. */
export function parameterCount(): number {
  return LAYER_SHAPES.reduce((sum, [, shape]) => sum + shape.reduce((a, b) => a * b, 1), 0);
}
