/**
 * `ap diff --science S.fits --template T.fits --out D.fits [--method al|al-convsci|zogy|auto]`:
 * characterize both images, warp the template onto the science grid, PSF-match and subtract
 * (shared/diffim/pipeline.ts), and write the difference (IMAGE, MASK, VARIANCE, PSF).
 */
import { writeFile } from 'node:fs/promises';
import {
  defineCommand,
  InputError,
  pairError,
  progress,
  progressDone,
  required,
} from '../command.js';
import type { SubtractMethodChoice } from '../../shared/diffim/config.js';
import { diffFitsOptions, runDiff, type PreparedTemplate } from '../../shared/diffim/pipeline.js';
import { writeExposureFile, type ReadExposureResult } from '../../shared/fits/exposure.js';
import type { Exposure } from '../../shared/image/exposure.js';
import { configHash } from '../../shared/pipeline/config.js';
import { writePreparedImage } from '../../shared/pipeline/prepared-io.js';
import { releaseShared } from '../../shared/util/buffer-pool.js';
import { codeVersionAsync } from '../../shared/util/version.js';
import { siblingModule } from '../../shared/util/worker.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { configOption } from '../config.js';
import {
  applyScienceOverrides,
  IMAGE_OPTIONS,
  IMAGE_OPTIONS_HELP,
  loadImage,
  loadTemplate,
} from '../image-inputs.js';

const METHODS: SubtractMethodChoice[] = ['al', 'al-convsci', 'zogy', 'auto'];

export const command = defineCommand({
  name: 'diff',
  summary: 'warp, PSF-match and subtract a template from a science image',
  help: `usage: ap diff --science S.fits --template T.fits --out D.fits [--method al|al-convsci|zogy|auto]
               [--config FILE] [--science-variance N.fits] [--template-variance N.fits] [--mjd MJD] [--band B] [--zero-point MAG]
               [--prepared-template-out P.fits]

  --science S.fits   science image (FITS with a celestial WCS; MASK/VARIANCE extensions used when present)
  --template T.fits  template image; warped onto the science grid with Lanczos-3. A prepared template
                     (APPREP = T: written by --prepared-template-out or the cloud's preload) is not
                     characterized again: its stars are found afresh and the response masking is skipped
  --out D.fits       difference: IMAGE, MASK, VARIANCE in the science frame with the science WCS,
                     PSF (the difference PSF on a grid of positions) and, for ZOGY, SCORR;
                     header cards DIFFMETH (AL, AL-CONVSCI or ZOGY), KERNSUM (science flux per
                     template flux), PSFFWHM (difference PSF FWHM at the centre, pixels) and the
                     registration: ASTRMETH (HEADER, REFIT, ALIGNED, PATTERN or NONE), ASTRNSTR
                     (stars fitted), ASTRRMS (rms of the fit, pixels), ASTRORD (order of the map)
  --method M         al: Alard-Lupton convolving the template; al-convsci: convolving the science;
                     auto (default): AL convolving whichever image has the narrower PSF (Rubin's rule);
                     zogy: Zackay, Ofek & Gal-Yam (2016) with S_corr
  --config FILE      pipeline configuration override, JSON (docs/contracts.md; its characterize,
                     warp and subtract blocks apply here), validated; --method applies on top.
                     Header cards APCONFIG (its hash) and APVERSION (code version) record it
  --prepared-template-out P.fits
                     also write the template as characterized here (background subtracted, MASK,
                     VARIANCE, PSF model, noise correlation; APPREP = T), to be given as --template
                     for the next science image of the field
${IMAGE_OPTIONS_HELP}

The science WCS is refitted on the template's stars before the warp (shared/astrom); images
without a WCS must have the same shape and are registered by their stars unless already aligned.
Stage timings and noise figures are logged as JSON lines on stderr.`,
  options: {
    science: { type: 'string' },
    template: { type: 'string' },
    out: { type: 'string' },
    method: { type: 'string' },
    config: { type: 'string' },
    'prepared-template-out': { type: 'string' },
    ...IMAGE_OPTIONS,
  },
  async run(values) {
    // Marks that end each span of the run (its modules loaded, the images read, each stage, the
    // file written), for a timeline of the threads (bench/timeline.mjs).
    performance.mark('loaded');
    const sciencePath = required(values, 'science');
    const templatePath = required(values, 'template');
    const out = required(values, 'out');
    const method = values.method as SubtractMethodChoice | undefined;
    if (method !== undefined && !METHODS.includes(method))
      throw new InputError(`--method must be one of ${METHODS.join(', ')}, got '${method}'`);
    const config = await configOption(values.config, { subtract: { method } });
    // git (the commit of APVERSION) runs on the other core while the images are read, and the pool's
    // worker starts and loads the science's characterization (runDiff's first task on it) meanwhile.
    const version = codeVersionAsync();
    void WorkerPool.shared()
      .preload([
        siblingModule('../../shared/characterize/characterize-async', import.meta.url).href,
      ])
      .catch(() => {}); // a module that fails to load fails its task in runDiff, with its reason
    progress('reading images');
    // The science first: the pool's worker characterizes it (runDiff's first task) while this
    // thread reads the template, which runDiff awaits only then.
    const scienceRead = await loadImage(sciencePath, values['science-variance']);
    performance.mark('science read');
    applyScienceOverrides(scienceRead, values);
    const science = scienceRead.exposure;
    const preparedOut = values['prepared-template-out'];
    const loaded: { template?: ReadExposureResult; prepared?: boolean } = {};
    const template = loadTemplate(templatePath, values['template-variance']).then(
      ({ read, prepared }): PreparedTemplate | Exposure => {
        performance.mark('template read');
        if (prepared && preparedOut !== undefined)
          throw new InputError(`${templatePath}: the template is already prepared`);
        const tmpl = read.exposure;
        if (
          (!science.wcs || !tmpl.wcs) &&
          (science.width !== tmpl.width || science.height !== tmpl.height)
        ) {
          throw new InputError(
            `${templatePath}: without a celestial WCS on both images they must have the same shape (${tmpl.width}x${tmpl.height} vs ${science.width}x${science.height})`,
          );
        }
        loaded.template = read;
        loaded.prepared = prepared !== null;
        return prepared ?? tmpl;
      },
    );
    template.catch(() => {}); // runDiff awaits it, once the science's characterization has started
    progress('characterizing, warping and subtracting');
    // Once warped, the template is read no more (unless written out prepared): its planes go back
    // to the pool for the subtraction's (shared/util/buffer-pool.ts).
    const onWarped = (): void => {
      const tmpl = loaded.template?.exposure;
      if (tmpl && preparedOut === undefined)
        releaseShared(tmpl.image.data, tmpl.mask.data, tmpl.variance.data);
    };
    const result = await runDiff(
      science,
      template,
      {
        characterizeOverrides: config.characterize,
        astrometry: config.astrometry,
        warp: config.warp,
        subtract: config.subtract,
      },
      { onWarped, onStage: (stage) => performance.mark(stage) },
    ).catch(async (err: unknown) => {
      // Not left to end the science's characterization (the template may fail while it runs).
      await WorkerPool.shared().close();
      throw pairError(err, sciencePath, templatePath) ?? err;
    });
    const templateRead = loaded.template!;
    progress('writing');
    await writeExposureFile(
      out,
      result.difference,
      diffFitsOptions(result, { configHash: configHash(config), codeVersion: await version }),
    );
    if (preparedOut !== undefined && result.templateCharacterization)
      await writeFile(
        preparedOut,
        writePreparedImage({
          kind: 'prepared',
          exposure: templateRead.exposure,
          psfFwhmPx: result.templateCharacterization.psf.fwhmPx,
          timingMs: result.timingsMs.characterizeTemplate,
        }),
      );
    performance.mark('written');
    progressDone();
    process.stderr.write(
      `${JSON.stringify({
        severity: 'INFO',
        message: 'ap diff done',
        method: result.method,
        kernelSum: result.kernelSum,
        warpResampler: result.warpResampler,
        fftEngine: result.fftEngine,
        kernelArithmetic: result.kernelArithmetic,
        psfFwhmPx: result.psfFwhmPx,
        noiseRatio: result.stats.noiseRatio,
        candidatesUsed: result.stats.candidatesUsed,
        kernelFallback: result.stats.kernelFallback || undefined,
        apertureCorrected: result.stats.apertureCorrected,
        variance: {
          science: scienceRead.varianceOrigin || 'derived',
          template: templateRead.varianceOrigin || 'derived',
        },
        templatePrepared: loaded.prepared === true,
        coverageFraction: result.coverageFraction,
        astrometry: result.astrometry.mode,
        astrometryStars: result.astrometry.nStars,
        astrometryRmsPx: result.astrometry.rmsPx,
        responseMaskedFraction: result.responseMaskedFraction,
        timingsMs: Object.fromEntries(
          Object.entries(result.timingsMs).map(([k, v]) => [k, Math.round(v)]),
        ),
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      })}\n`,
    );
  },
});
