/**
 * `--config FILE` of `ap diff` and `ap process`: a JSON pipeline configuration override
 * (docs/contracts.md), validated, with the command line's own options applied on top of it.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from './command.js';
import {
  ConfigError,
  pipelineConfig,
  pipelineConfigFromJson,
  type PipelineConfig,
  type PipelineOverrides,
} from '../shared/pipeline/config.js';

/** The effective configuration: defaults, then FILE (when given), then `options`; a bad one is an InputError naming its source. */
export async function configOption(
  file: string | undefined,
  options: PipelineOverrides,
): Promise<PipelineConfig> {
  try {
    let base: PipelineConfig | undefined;
    if (file !== undefined) {
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new InputError(
          `${file}: cannot read (${err.code === 'ENOENT' ? 'no such file' : err.message})`,
        );
      });
      base = pipelineConfigFromJson(text, file);
    }
    return pipelineConfig(options, 'command-line options', base);
  } catch (err) {
    if (err instanceof ConfigError) throw new InputError(err.message);
    throw err;
  }
}
