#!/usr/bin/env node
import { main } from './main.js';
import { handleCliError } from './report.js';

// `quire show 1 | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv).catch(handleCliError);
