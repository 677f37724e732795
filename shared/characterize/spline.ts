/**
 * Natural cubic spline through nodes (t_i, v_i), evaluated on a regular pixel grid;
 * beyond the end nodes it continues linearly (zero curvature there), as SExtractor's
 * bicubic background map does (Bertin & Arnouts 1996, A&AS 117, 393, sect. 3.1).
 */
export function splineOnGrid(
  nodes: Float64Array,
  values: Float64Array,
  count: number,
  out: Float32Array | Float64Array,
  outStride = 1,
  outOffset = 0,
): void {
  splineSampler(nodes, count)(values, out, outStride, outOffset);
}

/**
 * The spline through `nodes` sampled at 0..count-1, for any values at the nodes: each sample is a
 * fixed weighting of two node values and their two second derivatives, so the weights are computed
 * once and reused (e.g. for every row of an image).
 */
export function splineSampler(
  nodes: Float64Array,
  count: number,
): (
  values: Float64Array | Float32Array,
  out: Float32Array | Float64Array,
  outStride?: number,
  outOffset?: number,
) => void {
  const n = nodes.length;
  // Samples [ends[s - 1], ends[s]) lie in segment s; per sample, the weights of values[s], values[s + 1], m[s], m[s + 1].
  const ends = new Int32Array(Math.max(1, n - 1));
  const wts = new Float64Array(4 * count);
  let s = 0;
  for (let x = 0; x < count && n > 1; x++) {
    while (s < n - 2 && x > nodes[s + 1]) ends[s++] = x;
    const h = nodes[s + 1] - nodes[s];
    const a = (nodes[s + 1] - x) / h;
    const b = 1 - a;
    const h6 = (h * h) / 6;
    wts[4 * x] = a;
    wts[4 * x + 1] = b;
    if (b >= 0 && a >= 0) {
      wts[4 * x + 2] = (a * a * a - a) * h6;
      wts[4 * x + 3] = (b * b * b - b) * h6;
    } else if (a > 1)
      wts[4 * x + 3] = -h6 * b; // left of the first node: slope of the spline there
    else wts[4 * x + 2] = -h6 * a; // right of the last node
  }
  for (; s < ends.length; s++) ends[s] = count;
  return (values, out, outStride = 1, outOffset = 0) => {
    if (n === 1) {
      for (let x = 0; x < count; x++) out[outOffset + x * outStride] = values[0];
      return;
    }
    const m = secondDerivatives(nodes, values);
    let x = 0;
    for (let k = 0; k < n - 1; k++) {
      const v0 = values[k];
      const v1 = values[k + 1];
      const m0 = m[k];
      const m1 = m[k + 1];
      for (let end = ends[k], o = outOffset + x * outStride; x < end; x++, o += outStride)
        out[o] = wts[4 * x] * v0 + wts[4 * x + 1] * v1 + wts[4 * x + 2] * m0 + wts[4 * x + 3] * m1;
    }
  };
}

/** Second derivatives of the natural spline (tridiagonal solve). */
function secondDerivatives(t: Float64Array, v: Float64Array | Float32Array): Float64Array {
  const n = t.length;
  const m = new Float64Array(n);
  if (n < 3) return m;
  const c = new Float64Array(n);
  const d = new Float64Array(n);
  for (let i = 1; i < n - 1; i++) {
    const h0 = t[i] - t[i - 1];
    const h1 = t[i + 1] - t[i];
    const rhs = 6 * ((v[i + 1] - v[i]) / h1 - (v[i] - v[i - 1]) / h0);
    const diag = 2 * (h0 + h1) - h0 * c[i - 1];
    c[i] = h1 / diag;
    d[i] = (rhs - h0 * d[i - 1]) / diag;
  }
  for (let i = n - 2; i >= 1; i--) m[i] = d[i] - c[i] * m[i + 1];
  return m;
}
