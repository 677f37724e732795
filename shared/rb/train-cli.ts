/**
 * `npm run train-rb`: trains and ships a real/bogus model, or adapts one to a new camera.
 *
 *   npm run train-rb [-- --base DIR --out DIR --version NAME --epochs N --input NORMALISATION --nights NIGHTS]
 *       generate/cached simulated nights, train (from fresh weights, or fine-tune DIR's model after an
 *       upstream change), pick the cut, evaluate on a held-out night, write weights + model card to
 *       models/rb/v<next>/ (or DIR); --input median|local-background: the cutouts' normalisation
 *       (cutouts.ts InputNormalization; default median, a base model's weights may start another);
 *       --nights default|default-faint|defects-broad|defects-broad-faint: the training nights (release.ts ReleaseNights; default: default)
 *   npm run train-rb -- widen [--base DIR --out DIR --version NAME --epochs N]
 *       fine-tune the latest shipped model (or DIR) on default and wider-world nights, pick the cut, evaluate
 *       on the held-out night and the independent held-out pairs, write models/rb/v<next>/
 *   npm run train-rb -- retrain --cutouts PREFIX [--labels CSV] [--base DIR] --out DIR [--version NAME] [--epochs N]
 *       fine-tune on labelled cutouts (PREFIX.csv + PREFIX.bin, docs/rb/README.md)
 *   npm run train-rb -- uncertain --cutouts PREFIX [--model DIR] --out PREFIX [--count 200]
 *       export the least certain cutouts, unlabelled, for people to label
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initTf } from '../tf/backend.js';
import { INPUT_DESCRIPTIONS, type InputNormalization } from './cutouts.js';
import { DEFAULT_RETRAIN_CONFIG, retrainModel, uncertainSubset } from './adapt.js';
import { writeEvaluation } from './evaluate.js';
import { readSet, writeSet } from './labelled-set.js';
import { SHIPPED_MODELS_DIR, latestShippedDir, loadModel, saveModel } from './model.js';
import { trainRelease, widenRelease, type ReleaseNights } from './release.js';

const log = (message: string): void =>
  void process.stderr.write(`${JSON.stringify({ severity: 'INFO', message })}\n`);

function nextVersionDir(): { dir: string; version: string } {
  const taken = existsSync(SHIPPED_MODELS_DIR)
    ? readdirSync(SHIPPED_MODELS_DIR)
        .map((n) => /^v(\d+)$/.exec(n))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
    : [];
  const n = Math.max(0, ...taken) + 1;
  return { dir: join(SHIPPED_MODELS_DIR, `v${n}`), version: `rb-v${n}` };
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

class UsageError extends Error {}

/** Reading the user's files: their errors are bad input (exit 2). */
function input<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got '${value}'`);
  return n;
}

function inputNormalization(value: string | undefined): InputNormalization | undefined {
  if (value === undefined) return undefined;
  if (!(value in INPUT_DESCRIPTIONS))
    throw new UsageError(
      `--input must be one of ${Object.keys(INPUT_DESCRIPTIONS).join(', ')}, got '${value}'`,
    );
  return value as InputNormalization;
}

const RELEASE_NIGHTS: readonly ReleaseNights[] = [
  'default',
  'default-faint',
  'defects-broad',
  'defects-broad-faint',
];

function releaseNights(value: string | undefined): ReleaseNights | undefined {
  if (value === undefined) return undefined;
  if (!RELEASE_NIGHTS.includes(value as ReleaseNights))
    throw new UsageError(`--nights must be one of ${RELEASE_NIGHTS.join(', ')}, got '${value}'`);
  return value as ReleaseNights;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      version: { type: 'string' },
      epochs: { type: 'string' },
      cutouts: { type: 'string' },
      labels: { type: 'string' },
      base: { type: 'string' },
      model: { type: 'string' },
      count: { type: 'string' },
      input: { type: 'string' },
      nights: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      verbose: { type: 'boolean' },
    },
  });
  const mode = positionals[0] ?? 'train';
  if (values.help) {
    process.stdout.write(`${readmeUsage}\n`);
    return;
  }
  const epochs = positiveInt(values.epochs, 'epochs');
  const normalization = inputNormalization(values.input);
  const nights = releaseNights(values.nights);
  const train = {
    ...(epochs ? { epochs } : {}),
    ...(normalization ? { input: normalization } : {}),
  };
  if (mode === 'train') {
    await initTf(undefined, log);
    const next = nextVersionDir();
    const outDir = values.out ?? next.dir;
    const base = values.base ? await loadModel(values.base) : undefined;
    const r = await trainRelease(
      {
        version: values.version ?? next.version,
        outDir,
        train,
        minSnr: 6,
        base,
        nights,
      },
      log,
    );
    const c = r.heldOut.atCut;
    log(
      `${r.model.version} -> ${outDir}: held-out |S/N| >= 6 purity ${(100 * c.purity).toFixed(2)}%, completeness ${(100 * c.completeness).toFixed(2)}%, AUC ${r.heldOut.aucAtMinSnr.toFixed(4)}, cut ${r.model.threshold}, training ${(r.summary.trainMs / 1000).toFixed(0)} s`,
    );
  } else if (mode === 'widen') {
    await initTf(undefined, log);
    const next = nextVersionDir();
    const outDir = values.out ?? next.dir;
    const base = await loadModel(values.base ?? latestShippedDir());
    const r = await widenRelease(
      {
        version: values.version ?? next.version,
        outDir,
        train,
        minSnr: 6,
        base,
      },
      log,
    );
    const [c, i, b] = [r.heldOut.atCut, r.independent.atCut, r.independentBase.atCut];
    log(
      `${r.model.version} -> ${outDir}: cut ${r.model.threshold}; held-out night |S/N| >= 6 purity ${(100 * c.purity).toFixed(2)}%, completeness ${(100 * c.completeness).toFixed(2)}%; independent pairs purity ${(100 * i.purity).toFixed(2)}%, completeness ${(100 * i.completeness).toFixed(2)}% (${base.version}: ${(100 * b.purity).toFixed(2)}%, ${(100 * b.completeness).toFixed(2)}%); training ${(r.summary.trainMs / 1000).toFixed(0)} s`,
    );
  } else if (mode === 'retrain') {
    const outDir = required(values.out, 'out');
    const set = input(() => readSet(required(values.cutouts, 'cutouts'), values.labels));
    await initTf(undefined, log);
    const base = await loadModel(values.base ?? latestShippedDir());
    const version = values.version ?? `${base.version}-retrained`;
    const r = retrainModel(base, set, {
      ...DEFAULT_RETRAIN_CONFIG,
      version,
      train: { ...DEFAULT_RETRAIN_CONFIG.train, ...(epochs ? { epochs } : {}) },
    });
    mkdirSync(outDir, { recursive: true });
    saveModel(outDir, r.model);
    if (r.heldOut) writeEvaluation(outDir, 'heldout', r.heldOut);
    if (r.baseHeldOut) writeEvaluation(outDir, 'heldout-base', r.baseHeldOut);
    log(
      `${version} -> ${outDir}: fine-tuned on ${r.trainCount} cutouts; held-out AUC ${r.heldOut?.aucAll.toFixed(4) ?? 'n/a'} (base ${r.baseHeldOut?.aucAll.toFixed(4) ?? 'n/a'})`,
    );
  } else if (mode === 'uncertain') {
    const out = required(values.out, 'out');
    const count = positiveInt(values.count, 'count') ?? 200;
    const set = input(() => readSet(required(values.cutouts, 'cutouts')));
    await initTf(undefined, log);
    const model = await loadModel(values.model ?? latestShippedDir());
    const picked = uncertainSubset(model, set, count);
    writeSet(out, picked.set);
    log(
      `${picked.set.raw.count} least certain cutouts (reliability ${Math.min(...picked.scores).toFixed(3)}-${Math.max(...picked.scores).toFixed(3)}) -> ${out}.csv/.bin: fill in the label column`,
    );
  } else {
    throw new UsageError(`unknown mode '${mode}' (train, widen, retrain or uncertain)`);
  }
}

const readmeUsage = `usage:
  npm run train-rb [-- --base DIR] [--out DIR] [--version NAME] [--epochs N] [--input NORMALISATION] [--nights default|default-faint|defects-broad|defects-broad-faint]
  npm run train-rb -- widen [--base DIR] [--out DIR] [--version NAME] [--epochs N] [--input NORMALISATION]
  npm run train-rb -- retrain --cutouts PREFIX [--labels CSV] [--base DIR] --out DIR [--version NAME] [--epochs N]
  npm run train-rb -- uncertain --cutouts PREFIX [--model DIR] --out PREFIX [--count 200]
(--input: median or local-background, the cutouts' normalisation; cutout sets: PREFIX.csv with id,label,snr,kind and PREFIX.bin; see docs/rb/README.md)`;

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`train-rb: ${message.split('\n')[0]}\n`);
  if (process.argv.includes('--verbose') && err instanceof Error)
    process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
