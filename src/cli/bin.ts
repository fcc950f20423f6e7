#!/usr/bin/env node
import { main } from './main.js';
import { handleCliError } from './report.js';

main(process.argv).catch(handleCliError);
