// FITS reading and writing speed on a 4096 x 4096 detector: plain float32, RICE_1 int32 and
// RICE_1 quantized float32. Targets: plain read/write well under 1 s; RICE_1 decode 1-2 s at most.
import { readFits, writeFits, type FitsHduInput } from '../shared/fits/index.js';

const SIZE = 4096;

function time<T>(label: string, pixels: number, run: () => T): T {
  const t0 = performance.now();
  const out = run();
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${label.padEnd(40)} ${s.toFixed(3).padStart(7)} s  ${(pixels / s / 1e6).toFixed(1).padStart(6)} Mpix/s`,
  );
  return out;
}

export async function run(): Promise<void> {
  const n = SIZE * SIZE;
  // sky-like pixels: a level plus noise, so compression ratios are realistic
  let seed = 12345;
  const noise = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296 - 0.5;
  };
  const floats = new Float32Array(n);
  for (let i = 0; i < n; i++) floats[i] = 1000 + 20 * (noise() + noise() + noise());
  const ints = Int32Array.from(floats, Math.round);
  const hdu = (data: Float32Array | Int32Array): FitsHduInput[] => [
    { data: null },
    { name: 'IMAGE', data, width: SIZE, height: SIZE },
  ];

  console.log(`FITS ${SIZE} x ${SIZE}`);
  const plain = time('write float32 (plain)', n, () => writeFits(hdu(floats)));
  time('read float32 (plain)', n, () => readFits(plain));
  const rice = time('write int32 RICE_1', n, () => writeFits(hdu(ints), { compress: 'RICE_1' }));
  time('read int32 RICE_1', n, () => readFits(rice));
  const quantized = time('write float32 RICE_1 (quantized, q=16)', n, () =>
    writeFits(hdu(floats), { compress: 'RICE_1' }),
  );
  time('read float32 RICE_1 (dithered)', n, () => readFits(quantized));
  console.log(
    `sizes: plain ${(plain.length / 1e6).toFixed(1)} MB, int32 RICE_1 ${(rice.length / 1e6).toFixed(1)} MB, ` +
      `float32 RICE_1 ${(quantized.length / 1e6).toFixed(1)} MB`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
