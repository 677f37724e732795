/**
 * A 2-D convolution ('valid' padding, NHWC) whose gradient uses only forward kernels, so that it
 * trains on the WASM backend, which has no Conv2DBackpropFilter kernel:
 * dL/dx = conv2dTranspose(dy, w) and dL/dw = conv2d(x^T, dy^T) with dilation = stride, where
 * x^T is x as [Ci, H, W, B] and dy^T is dy as [Ho, Wo, B, Co] (the batch becomes the contraction
 * axis), sliced to the kernel size and transposed to [kh, kw, Ci, Co].
 */
import { tf } from '../tf/backend.js';

type Conv = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
const cache = new Map<number, Conv>();

/** conv2d(x, w, stride, 'valid') with a forward-only gradient (see above). */
export function trainableConv2d(x: tf.Tensor4D, w: tf.Tensor4D, stride: number): tf.Tensor4D {
  let conv = cache.get(stride);
  if (!conv) {
    conv = makeConv(stride);
    cache.set(stride, conv);
  }
  return conv(x, w);
}

function makeConv(stride: number): Conv {
  const body = (x: tf.Tensor4D, w: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: tf.conv2d(x, w, stride, 'valid'),
      gradFunc: (dyIn: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dy = dyIn as tf.Tensor4D;
        const dx = tf.conv2dTranspose(dy, ws, xs.shape, stride, 'valid');
        const xt = tf.transpose(xs, [3, 1, 2, 0]) as tf.Tensor4D;
        const dyt = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
        const full = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', [stride, stride]);
        const [kh, kw] = ws.shape;
        const g = tf.slice(full, [0, 0, 0, 0], [full.shape[0], kh, kw, full.shape[3]]);
        return [dx, tf.transpose(g, [1, 2, 0, 3])];
      },
    };
  };
  // customGrad's typing takes a variadic (Tensor | GradSaveFunc) list; the call shape is fixed here.
  const f = tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x, w) => f(x, w) as tf.Tensor4D;
}
