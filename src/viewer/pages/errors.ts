/** A page for what cannot be shown: an unknown run, a bad filter, a refused request. */
import { html } from '../html.js';
import type { Page, Section } from './layout.js';

export function errorPage(title: string, message: string, section: Section = 'runs'): Page {
  return { title, section, head: html`<h1>${title}</h1>`, live: html`<div class="error-box">${message}</div><p><a href="/runs">back to the runs</a></p>` };
}
