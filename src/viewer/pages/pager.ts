/**
 * Page links for a listing paged on the server: first, previous, next, last, and where
 * this page is among them.
 */
import { count } from '../format.js';
import { html, type Html } from '../html.js';

export interface Paging {
  total: number;
  /** 1-based. */
  page: number;
  limit: number;
}

export const pageCount = ({ total, limit }: Paging): number => Math.max(1, Math.ceil(total / limit));

/** `href(n)` is the URL of page n with the listing's other parameters kept. */
export function pager(paging: Paging, noun: string, href: (page: number) => string): Html {
  const pages = pageCount(paging);
  const { page, total, limit } = paging;
  const first = total === 0 ? 0 : (page - 1) * limit + 1;
  const last = Math.min(total, page * limit);
  const link = (to: number, label: string, rel?: string) =>
    to < 1 || to > pages || to === page ? html`<span class="disabled">${label}</span>` : html`<a href="${href(to)}"${rel ? html` rel="${rel}"` : ''}>${label}</a>`;
  return html`<nav class="pager" aria-label="pages">
${link(1, '« first')} ${link(page - 1, '‹ previous', 'prev')}
<span>${count(first)}–${count(last)} of ${count(total)} ${noun} · page ${count(page)} of ${count(pages)}</span>
${link(page + 1, 'next ›', 'next')} ${link(pages, 'last »')}
</nav>`;
}
