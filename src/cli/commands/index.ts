import type { CAC } from 'cac';
import { registerBatches, registerResults } from './batches.js';
import { registerDiff } from './diff.js';
import { registerDoctor } from './doctor.js';
import { registerExport } from './export.js';
import { registerInit } from './init.js';
import { registerMigrateStore } from './migrate-store.js';
import { registerMockLlm } from './mock-llm.js';
import { registerRender } from './render.js';
import { registerRun } from './run.js';
import { registerRuns } from './runs.js';
import { registerShow } from './show.js';
import { registerTest } from './test.js';
import { registerSync } from './sync.js';
import { registerValidate } from './validate.js';
import { registerView } from './view.js';
import { registerWatch } from './watch.js';
import { registerWorker } from './worker.js';

/** Each command module registers itself on the cac instance; the action lazy-imports its app code. */
export type RegisterCommand = (cli: CAC) => void;

export const COMMANDS: RegisterCommand[] = [registerInit, registerValidate, registerSync, registerRender, registerRun, registerRuns, registerShow, registerBatches, registerResults, registerDiff, registerMockLlm, registerExport, registerDoctor, registerWatch, registerTest, registerView, registerMigrateStore, registerWorker];
