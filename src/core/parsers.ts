/**
 * The general-purpose parsers, loaded on first use. Most commands on most workspaces
 * never need them (plain front matter, mustaches and YAML take the fast paths, and an
 * unchanged workspace is not parsed at all), and loading them costs ~70 ms of startup.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Yaml = typeof import('yaml');
type HandlebarsLib = typeof import('handlebars');
type Jinja = typeof import('@huggingface/jinja');

let yaml: Yaml | undefined;
let handlebars: HandlebarsLib | undefined;
let jinja: Jinja | undefined;

export const loadYaml = (): Yaml => (yaml ??= require('yaml') as Yaml);
export const loadHandlebars = (): HandlebarsLib => (handlebars ??= require('handlebars') as HandlebarsLib);
export const loadJinja = (): Jinja => (jinja ??= require('@huggingface/jinja') as Jinja);
