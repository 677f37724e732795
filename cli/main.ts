/**
 * `ap`: the Alert Production command line (docs/contracts.md).
 * Each subcommand lives in cli/commands/<name>.ts and exports `command`.
 */
import { parseArgs } from 'node:util';
import { codeVersion } from '../shared/util/version.js';
import { InputError, systemFileError, type Command } from './command.js';

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

/**
 * `--threshold -3` as `--threshold=-3`: a negative number after a value option is its value
 * (node:util parseArgs would take it for an option and refuse it as ambiguous).
 */
export function joinNegativeValues(args: readonly string[], options: Command['options']): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : '';
    const next = args[i + 1];
    if (options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

/** A reader that stops reading (`ap alerts | head -3`) ends the command quietly with exit 0. */
function quietOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
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
      args: joinNegativeValues(
        rest.filter((a) => a !== '--verbose'),
        command.options,
      ),
      options: command.options,
      strict: true,
      allowPositionals: command.positionals ?? false,
    });
    await command.run(values, verbose, positionals);
    return 0;
  } catch (err) {
    const e: Error & { code?: string } = systemFileError(err) ?? (err as Error);
    const known =
      e instanceof InputError ||
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
      e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
      e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL';
    // One line whatever the parser says (its messages can span three).
    process.stderr.write(`ap ${name}: ${known ? '' : 'error: '}${e.message.split('\n')[0]}\n`);
    if (verbose && (err as Error).stack) process.stderr.write(`${(err as Error).stack}\n`);
    return known ? 2 : 1;
  }
}

quietOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));
