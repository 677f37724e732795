/**
 * A real/bogus model on disk and in memory. The weights format (documented in docs/rb/README.md):
 * a folder holding `manifest.json` (format, version, threshold, input and scoring descriptions,
 * and each tensor's name, shape and byte offset) and `weights.bin` (the tensors' float32 values,
 * little-endian, back to back in manifest order). Read with fs: no download, no URL handler.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initTf, tf } from '../tf/backend.js';
import { findUpwards } from '../util/assets.js';
import { CHANNELS, CUTOUT_SIZE, INPUT_DESCRIPTIONS, type InputNormalization } from './cutouts.js';
import { LAYER_SHAPES, type NetworkWeights } from './network.js';
import { SCORING_DESCRIPTIONS, type Scoring } from './scoring.js';

export const WEIGHTS_FORMAT = 'ap-rb-weights/1';

/** Where shipped models live: models/rb/v<N>/ at the repository root. */
export const SHIPPED_MODELS_DIR = findUpwards(import.meta.url, join('models', 'rb'));

export interface RbModel {
  /** Model version, e.g. 'rb-v1': written to every alert's diaSource.reliabilityModel. */
  version: string;
  /** Reliability cut, chosen for the model's scoring (a source is called real when reliability >= threshold). */
  threshold: number;
  weights: NetworkWeights;
  /** How its cutouts are normalised (cutouts.ts InputNormalization); absent: 'median', rb-v1-v5's. */
  input?: InputNormalization;
  /** How its reliability is formed from the network (score.ts Scoring); absent: 'single', rb-v1-v5's. */
  scoring?: Scoring;
}

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Byte offset in weights.bin. */
  offset: number;
}

export interface WeightsManifest {
  format: typeof WEIGHTS_FORMAT;
  version: string;
  threshold: number;
  cutoutSize: number;
  channels: number;
  /** How cutouts are normalised before the network: INPUT_DESCRIPTIONS' words for the model's InputNormalization. */
  input: string;
  /** How the reliability is formed: SCORING_DESCRIPTIONS' words; absent (rb-v1 to rb-v5): a single pass. */
  scoring?: string;
  tensors: TensorEntry[];
  weightsFile: string;
}

/** Writes manifest.json and weights.bin into `dir` (created if needed). */
export function saveModel(dir: string, model: RbModel): void {
  mkdirSync(dir, { recursive: true });
  const tensors: TensorEntry[] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const [name] of LAYER_SHAPES) {
    const t = model.weights.get(name);
    if (!t) throw new Error(`model ${model.version} lacks tensor ${name}`);
    const values = t.dataSync() as Float32Array;
    tensors.push({ name, shape: t.shape, offset });
    chunks.push(values);
    offset += values.length * 4;
  }
  const bytes = Buffer.alloc(offset);
  let at = 0;
  for (const c of chunks) for (const v of c) at = bytes.writeFloatLE(v, at);
  const manifest: WeightsManifest = {
    format: WEIGHTS_FORMAT,
    version: model.version,
    threshold: model.threshold,
    cutoutSize: CUTOUT_SIZE,
    channels: CHANNELS,
    input: INPUT_DESCRIPTIONS[model.input ?? 'median'],
    scoring: SCORING_DESCRIPTIONS[model.scoring ?? 'single'],
    tensors,
    weightsFile: 'weights.bin',
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, 'weights.bin'), bytes);
}

/** Reads a model folder written by saveModel; errors name the file and the problem. */
export async function loadModel(dir: string): Promise<RbModel> {
  await initTf();
  const manifestPath = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as WeightsManifest;
  if (manifest.format !== WEIGHTS_FORMAT)
    throw new Error(`${manifestPath}: format '${manifest.format}' is not ${WEIGHTS_FORMAT}`);
  if (manifest.cutoutSize !== CUTOUT_SIZE || manifest.channels !== CHANNELS) {
    throw new Error(
      `${manifestPath}: cutouts ${manifest.cutoutSize}x${manifest.cutoutSize}x${manifest.channels}, expected ${CUTOUT_SIZE}x${CUTOUT_SIZE}x${CHANNELS}`,
    );
  }
  const input = (Object.keys(INPUT_DESCRIPTIONS) as InputNormalization[]).find(
    (k) => INPUT_DESCRIPTIONS[k] === manifest.input,
  );
  if (!input)
    throw new Error(`${manifestPath}: input '${manifest.input}' is no known normalisation`);
  const scoring = (Object.keys(SCORING_DESCRIPTIONS) as Scoring[]).find(
    (k) => SCORING_DESCRIPTIONS[k] === (manifest.scoring ?? SCORING_DESCRIPTIONS.single),
  );
  if (!scoring)
    throw new Error(`${manifestPath}: scoring '${manifest.scoring}' is no known scoring`);
  const binPath = join(dir, manifest.weightsFile);
  const bytes = readFileSync(binPath);
  const weights: NetworkWeights = new Map();
  for (const [name, shape] of LAYER_SHAPES) {
    const entry = manifest.tensors.find((t) => t.name === name);
    if (!entry || entry.shape.join('x') !== shape.join('x'))
      throw new Error(`${manifestPath}: tensor ${name} missing or not ${shape.join('x')}`);
    const length = shape.reduce((a, b) => a * b, 1);
    if (entry.offset + 4 * length > bytes.length)
      throw new Error(`${binPath}: too short for tensor ${name}`);
    const values = new Float32Array(length);
    for (let i = 0; i < length; i++) values[i] = bytes.readFloatLE(entry.offset + 4 * i);
    weights.set(name, tf.tensor(values, [...shape]));
  }
  return { version: manifest.version, threshold: manifest.threshold, weights, input, scoring };
}

/** The newest shipped model folder (highest v<N> under models/rb/). */
export function latestShippedDir(root = SHIPPED_MODELS_DIR): string {
  const versions = readdirSync(root)
    .map((name) => /^v(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  if (versions.length === 0) throw new Error(`${root}: no shipped real/bogus model (v<N> folder)`);
  return join(root, `v${versions[versions.length - 1]}`);
}

/** Loads the newest shipped model from the repository (no download). */
export function loadShippedModel(): Promise<RbModel> {
  return loadModel(latestShippedDir());
}

/** Frees the model's tensors. */
export function disposeModel(model: RbModel): void {
  for (const t of model.weights.values()) t.dispose();
}
