// The training nights' extra unmasked defects (artifacts.ts ExtraDefectConfig): drawn after the default
// kinds, so the judged nights (which carry no extras) keep their defects, and of the shapes they claim.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Exposure } from '../../shared/image/exposure.js';
import { Rng } from '../../shared/sim/random.js';
import {
  DEFAULT_ARTIFACT_CONFIG,
  TRAINING_ARTIFACT_CONFIG,
  injectArtifacts,
  type ArtifactConfig,
  type ExtraDefectConfig,
} from '../../shared/rb/artifacts.js';

const SIZE = 512;
const stars = Array.from({ length: 40 }, (_, i) => ({
  x: 30 + ((i * 97) % 450),
  y: 30 + ((i * 61) % 450),
  flux: 1e5,
}));

function inject(config: ArtifactConfig): { image: Float32Array; kinds: string[]; at: number[][] } {
  const science = Exposure.blank(SIZE, SIZE);
  const out = injectArtifacts(science, stars, [], new Rng(7, 'artifacts-test'), config);
  return {
    image: Float32Array.from(science.image.data),
    kinds: out.map((a) => a.kind),
    at: out.map((a) => [a.x, a.y, a.radius]),
  };
}

const NONE: ExtraDefectConfig = {
  hotClustersPerMegapixel: 0,
  shortTracksPerMegapixel: 0,
  longTracksPerMegapixel: 0,
  besideStarsPerMegapixel: 0,
  nearEdgePerMegapixel: 0,
  peakAdu: [300, 8000],
};

test('the extra defects come after the default ones, which stay as the judged nights draw them', () => {
  const base = inject(DEFAULT_ARTIFACT_CONFIG);
  const withExtras = inject({ ...DEFAULT_ARTIFACT_CONFIG, extra: TRAINING_ARTIFACT_CONFIG.extra });
  assert.ok(
    withExtras.kinds.length > base.kinds.length + 10,
    `${withExtras.kinds.length} artifacts`,
  );
  assert.deepEqual(withExtras.at.slice(0, base.at.length), base.at);
  assert.ok(
    withExtras.kinds
      .slice(base.kinds.length)
      .every((k) => k === 'unmasked_cr' || k === 'unmasked_hot'),
  );
  // Outside the extras' own radii the image is the default one, pixel for pixel.
  const extras = withExtras.at.slice(base.at.length);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      if (extras.some(([ax, ay, r]) => Math.hypot(x - ax, y - ay) <= r + 1.5)) continue;
      assert.equal(withExtras.image[y * SIZE + x], base.image[y * SIZE + x], `pixel ${x},${y}`);
    }
});

/** The non-zero pixels within `r` of (x, y) in an otherwise empty image. */
function footprint(image: Float32Array, x: number, y: number, r: number): number[][] {
  const px: number[][] = [];
  for (let j = Math.floor(y - r); j <= y + r; j++)
    for (let i = Math.floor(x - r); i <= x + r; i++)
      if (image[j * SIZE + i] !== 0) px.push([i, j, image[j * SIZE + i]]);
  return px;
}

test('hot-pixel clusters are 2-4 touching pixels, tracks thin and as long as drawn, the others beside stars or at the edges', () => {
  const only = (extra: Partial<ExtraDefectConfig>): ArtifactConfig => ({
    ...DEFAULT_ARTIFACT_CONFIG,
    unmaskedCrPerMegapixel: 0,
    unmaskedHotPerMegapixel: 0,
    dipolesPerMegapixel: 0,
    psfResidualsPerMegapixel: 0,
    edgeGlowsPerImage: 0,
    extra: { ...NONE, ...extra },
  });
  const clusters = inject(only({ hotClustersPerMegapixel: 80 }));
  assert.ok(clusters.at.length >= 10, `${clusters.at.length} clusters`);
  for (const [x, y, r] of clusters.at) {
    const px = footprint(clusters.image, x, y, r);
    assert.ok(px.length >= 2 && px.length <= 4, `cluster at ${x},${y}: ${px.length} pixels`);
    assert.ok(px.every(([i, j]) => i - x >= 0 && i - x <= 1 && Math.abs(j - y) <= 1));
  }
  const tracks = inject(only({ longTracksPerMegapixel: 40 }));
  assert.ok(tracks.at.length >= 5, `${tracks.at.length} tracks`);
  for (const [x, y, r] of tracks.at) {
    const px = footprint(tracks.image, x, y, r + 1);
    const length = 2 * (r - 1.5);
    // A track deposited bilinearly covers 1-3 pixels across (3 on a diagonal).
    assert.ok(
      px.length >= length && px.length <= 3.2 * length + 4,
      `track ${px.length} px for ${length.toFixed(1)} px`,
    );
    const extent = Math.max(...px.map(([i, j]) => Math.hypot(i - x, j - y)));
    assert.ok(extent >= length / 2 - 1.5, `extent ${extent} for ${length}`);
  }
  const beside = inject(only({ besideStarsPerMegapixel: 60 }));
  assert.ok(beside.at.length >= 8, `${beside.at.length} beside stars`);
  for (const [x, y] of beside.at) {
    const d = Math.min(...stars.map((s) => Math.hypot(s.x - x, s.y - y)));
    assert.ok(d >= 1 && d <= 9, `defect ${d.toFixed(1)} px from the nearest star`);
  }
  const edge = inject(only({ nearEdgePerMegapixel: 60 }));
  assert.ok(edge.at.length >= 8, `${edge.at.length} near the edges`);
  for (const [x, y] of edge.at) {
    const d = Math.min(x, y, SIZE - 1 - x, SIZE - 1 - y);
    assert.ok(d >= 1 && d <= 6, `defect ${d} px from the edge`);
  }
});
