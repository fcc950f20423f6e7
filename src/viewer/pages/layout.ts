/**
 * The page shell: navigation, the stylesheet and the one script (both served by quire),
 * and the live region (`#live`) the script swaps when the database changes.
 */
import { ASSETS } from '../assets/index.js';
import { html, type Html } from '../html.js';

export type Section = 'runs' | 'compare' | 'batches' | 'workflows';

export interface Page {
  title: string;
  section: Section;
  /** Above the live region (headings, filter forms: what a swap must not reset). */
  head?: Html;
  /** What changes as runs are recorded. */
  live: Html;
}

const NAV: [Section, string, string][] = [
  ['runs', '/runs', 'Runs'],
  ['compare', '/compare', 'Compare'],
  ['batches', '/batches', 'Batches'],
  ['workflows', '/workflows', 'Workflows'],
];

/** The whole document; `version` is the database's data version the page was read at. */
export function document(page: Page, version: number): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title} · quire</title>
<link rel="stylesheet" href="${ASSETS.style.path}">
<link rel="icon" href="${ASSETS.icon.path}">
<script src="${ASSETS.script.path}" defer></script>
</head>
<body data-version="${version}">
<header class="top">
<a class="brand" href="/runs">quire</a>
<nav>${NAV.map(([section, href, label]) => html`<a href="${href}"${section === page.section ? html` class="here" aria-current="page"` : ''}>${label}</a>`)}</nav>
<span class="live" title="updates when another quire process records">read-only</span>
</header>
<main>
${page.head ?? ''}
${fragment(page)}
</main>
</body>
</html>
`;
}

/** The live region alone (what the script fetches to update a page in place). */
export function fragment(page: Page): Html {
  return html`<div id="live">${page.live}</div>`;
}
