import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { checkLogLevel } from '../env.js';
import { ConfigError, ChurnError, UsageError, errorMessage } from '../lib/errors.js';
import { registerCommands } from './commands.js';

export { UsageError };

/** The version users see in `churn --version`: the package's own. */
export function churnVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('churn')
    .description('Churn prediction and retention automation for Stripe subscription businesses')
    .version(churnVersion(), '-V, --version', 'print the churn version')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 bad usage. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    checkLogLevel();
    const program = buildProgram();
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0) return 0;
      return 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`churn: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`churn: configuration error: ${err.message}\n`);
      return 1;
    }
    if (err instanceof ChurnError) {
      process.stderr.write(`churn: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`churn: ${errorMessage(err)}\n`);
    if (process.env.CHURN_DEBUG) console.error(err);
    return 1;
  }
}
