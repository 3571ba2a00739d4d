// Splits argv into the command and option values with util.parseArgs, with messages of our own for
// unknown options, missing values and stray arguments.
import { parseArgs } from 'node:util';
import type { OptionSpec } from './options.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedCommandLine {
  command?: string;
  values: OptionValues;
  /** Options in the order given, by long name, with the spelling used. */
  given: { name: string; rawName: string }[];
}

export function parseCommandLine(argv: readonly string[], specs: readonly OptionSpec[]): ParsedCommandLine {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const s of specs) {
    options[s.name] = {
      type: s.type,
      ...(s.short ? { short: s.short } : {}),
      ...(s.multiple ? { multiple: true } : {}),
    };
  }
  const { values, tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const given: ParsedCommandLine['given'] = [];
  let command: string | undefined;
  for (const token of tokens) {
    if (token.kind === 'option') {
      const spec = byName.get(token.name);
      if (spec === undefined) {
        throw new UsageError(`unknown option '${token.rawName}'`);
      }
      if (
        spec.type === 'string' &&
        (token.value === undefined || (!token.inlineValue && token.value.startsWith('-')))
      ) {
        throw new UsageError(
          `option '${token.rawName}' needs a value (${token.rawName} ${spec.valueName ?? 'VALUE'})`,
        );
      }
      if (spec.type === 'boolean' && token.value !== undefined) {
        throw new UsageError(`option '${token.rawName}' does not take a value`);
      }
      given.push({ name: spec.name, rawName: token.rawName });
    } else if (token.kind === 'positional') {
      if (command === undefined) command = token.value;
      else throw new UsageError(`unexpected argument '${token.value}'`);
    }
  }
  return { ...(command !== undefined ? { command } : {}), values: values as OptionValues, given };
}
