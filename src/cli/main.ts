#!/usr/bin/env node
// The `gatehouse` executable (package.json "bin"): runs the CLI on this process's argv and streams.
import { EXIT } from './io.js';
import { run } from './run.js';

try {
  process.exitCode = await run(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  });
} catch (err) {
  process.stderr.write(
    `gatehouse: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = EXIT.FAILURE;
}
