/**
 * The night report's templates section: for each tile the night observed, and each other tile
 * templateBuilder holds candidates of, its template as nextVisit reads it
 * (`{band}/hpx8-{tile}.fits`): TMPLID, inputs, and the fraction of the tile it covers (shared/template
 * tileFillFactor); where templateBuilder built it, its record (state, candidates, rejected inputs
 * with the reason, build time); the fill factor per band; the images that found no template
 * (processing record `noTemplate`); and the template stage's facts (./template-stage.ts).
 */
import { readExposureWithHeader } from '../../shared/fits/index.js';
import { templateKey } from '../../shared/prompt/template-tiles.js';
import { fillByBand, tileFillFactor, type BandFill } from '../../shared/template/candidates.js';
import { services } from '../context.js';
import { PROCESSING_COLLECTION } from '../processing-record.js';
import { templateTiles } from '../template-builder.js';
import type { LocalCloud } from './cloud.js';
import type { TemplateStageFacts } from './template-stage.js';

export interface TemplateTileFigures {
  band: string;
  tile: number;
  /** A tile the night's detectors are differenced in (the tile of a detector's centre). */
  observed: boolean;
  /** `frozen`/`collecting`: templateBuilder's record; `uploaded`: a template put in the bucket directly; `none`. */
  state: 'frozen' | 'collecting' | 'uploaded' | 'none';
  tmplId: string | null;
  /** NINPUTS of the template (null: not a coadd). */
  inputs: number | null;
  candidates: number;
  rejected: Array<{ file: string; reason: string }>;
  fillFactor: number;
  buildSeconds: number | null;
}

export interface TemplateFigures {
  tiles: TemplateTileFigures[];
  bands: BandFill[];
  /** Images that made no alerts for want of a template (the template stage's inputs among them). */
  noTemplateImages: number;
  /** The template stage, or null when the templates were put in the bucket directly (`--direct-templates`). */
  stage: TemplateStageFacts | null;
}

export async function templateFigures(
  cloud: LocalCloud,
  band: string,
  observed: number[],
  stage: TemplateStageFacts | null,
): Promise<TemplateFigures> {
  const s = services();
  const recorded = (await templateTiles(s).list(band)).map((r) => r.tile).sort((a, b) => a - b);
  const tiles = [...new Set([...observed, ...recorded])];
  const rows = await Promise.all(
    tiles.map(async (tile): Promise<TemplateTileFigures> => {
      const record = await templateTiles(s).get(band, tile);
      const base = {
        band,
        tile,
        observed: observed.includes(tile),
        candidates: record?.candidates ?? 0,
        rejected: record?.rejected ?? [],
        buildSeconds: record?.buildSeconds ?? null,
      };
      if (record)
        return {
          ...base,
          state: record.state,
          tmplId: record.tmplId,
          inputs: record.nUsed || null,
          fillFactor: record.fillFactor,
        };
      const file = cloud.buckets.templates.file(templateKey(band, tile));
      if (!(await file.exists())[0])
        return { ...base, state: 'none', tmplId: null, inputs: null, fillFactor: 0 };
      const [bytes] = await file.download();
      const { exposure, header } = readExposureWithHeader(bytes, templateKey(band, tile));
      return {
        ...base,
        state: 'uploaded',
        tmplId: exposure.info.templateVersion ?? null,
        inputs: header.getNumber('NINPUTS') ?? null,
        fillFactor: tileFillFactor(exposure, tile),
      };
    }),
  );
  const noTemplate = await s.firestore
    .collection(PROCESSING_COLLECTION)
    .where('state', '==', 'noTemplate')
    .get();
  return {
    tiles: rows,
    // A template put in the bucket directly is as fixed as a frozen one; a collecting tile has none.
    bands: fillByBand(
      rows.map((r) => ({ ...r, state: r.state === 'uploaded' ? 'frozen' : r.state })),
    ),
    noTemplateImages: noTemplate.size,
    stage,
  };
}

/** One line for stdout. */
export function templateSummaryLine(t: TemplateFigures): string {
  const bands = t.bands
    .map(
      (b) =>
        `band ${b.band}: ${b.frozen}/${b.tiles} tiles with a template, fill factor ${b.fillFactor.toFixed(3)}`,
    )
    .join('; ');
  const made = t.stage
    ? `made from ${t.stage.images} template-input images by templateBuilder in ${t.stage.seconds.toFixed(0)} s`
    : 'put in the bucket directly';
  return `templates: ${made}; ${bands || 'none'}; ${t.noTemplateImages} images without a template`;
}
