/**
 * `ap`: the Alert Production command line (docs/contracts.md).
 * Each subcommand lives in cli/commands/<name>.ts and exports `command`.
 */
import { parseArgs } from 'node:util';
import { codeVersion } from '../shared/util/version.js';
import { InputError, type Command } from './command.js';

const COMMANDS: Record<string, string> = {
  simulate: 'write a template, science visits and truth.csv for one simulated detector',
  diff: 'warp, PSF-match and subtract a template from a science image',
  detect: 'detect and measure DIASources on a difference image',
  process: 'the whole per-detector pipeline offline, to alerts.avro',
  alerts: 'print the alerts in an Avro file or Pub/Sub dump as JSON lines',
  fakes: 'inject fake sources and measure completeness and purity',
  filter: 'print the diaSourceId of each alert a filter expression matches',
  template: 'coadd calibrated single visits into a template',
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, summary]) => `  ${name.padEnd(width)}  ${summary}`,
  );
  return `usage: ap <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'ap <command> --help' for a command's options; 'ap --version' prints the version.\n`;
}

async function loadCommand(name: string): Promise<Command> {
  const module = (await import(`./commands/${name}.js`)) as { command: Command };
  return module.command;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const verbose = rest.includes('--verbose');
  if (name === '--version' || name === '-V') {
    process.stdout.write(`ap ${codeVersion()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name === undefined ? 2 : 0;
  }
  try {
    if (!(name in COMMANDS)) throw new InputError(`unknown command '${name}' (try 'ap --help')`);
    const command = await loadCommand(name);
    if (rest.includes('--help') || rest.includes('-h')) {
      process.stdout.write(`ap ${command.name}: ${command.summary}\n\n${command.help.trimEnd()}\n`);
      return 0;
    }
    const { values, positionals } = parseArgs({
      args: rest.filter((a) => a !== '--verbose'),
      options: command.options,
      strict: true,
      allowPositionals: command.positionals ?? false,
    });
    await command.run(values, verbose, positionals);
    return 0;
  } catch (err) {
    const e = err as Error & { code?: string };
    const known =
      e instanceof InputError ||
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
      e.code === 'ENOENT';
    process.stderr.write(`ap ${name}: ${known ? '' : 'error: '}${e.message}\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    return known ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
