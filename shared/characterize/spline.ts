/**
 * Natural cubic spline through nodes (t_i, v_i), evaluated on a regular pixel grid;
 * beyond the end nodes it continues linearly (zero curvature there), as SExtractor's
 * bicubic background map does (Bertin & Arnouts 1996, A&AS 117, 393, sect. 3.1).
 */
export function splineOnGrid(nodes: Float64Array, values: Float64Array, count: number, out: Float32Array | Float64Array, outStride = 1, outOffset = 0): void {
  const n = nodes.length;
  if (n === 1) {
    for (let x = 0; x < count; x++) out[outOffset + x * outStride] = values[0];
    return;
  }
  const m = secondDerivatives(nodes, values);
  let seg = 0;
  for (let x = 0; x < count; x++) {
    while (seg < n - 2 && x > nodes[seg + 1]) seg++;
    const t0 = nodes[seg];
    const h = nodes[seg + 1] - t0;
    const a = (nodes[seg + 1] - x) / h;
    const b = 1 - a;
    let v = a * values[seg] + b * values[seg + 1];
    if (b >= 0 && a >= 0) v += ((a * a * a - a) * m[seg] + (b * b * b - b) * m[seg + 1]) * (h * h) / 6;
    else if (a > 1) v += -(h * h / 6) * m[seg + 1] * b; // left of the first node: slope of the spline there
    else v += -(h * h / 6) * m[seg] * a; // right of the last node
    out[outOffset + x * outStride] = v;
  }
}

/** Second derivatives of the natural spline (tridiagonal solve). */
function secondDerivatives(t: Float64Array, v: Float64Array): Float64Array {
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
