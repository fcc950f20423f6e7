/**
 * The viewer's stylesheet, served by quire itself (`/assets/style.css`): no CDN, nothing
 * built at install time. Light and dark follow the system. No inline styles anywhere
 * (the Content-Security-Policy forbids them), so every look is a class here.
 */
export const STYLE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #fbfbfa; --fg: #1d1f21; --muted: #6a6f76; --line: #dcdfe3; --panel: #ffffff; --head: #f1f3f5;
  --accent: #2f5fd0; --ok: #1a7f37; --bad: #c62828; --warn: #9a6700; --run: #0969da;
  --add-bg: #d7f5dd; --add-fg: #0f5323; --del-bg: #ffd9d9; --del-fg: #8e1b1b;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  --sans: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16181b; --fg: #e3e5e8; --muted: #9aa0a6; --line: #30343a; --panel: #1d2024; --head: #23272c;
    --accent: #7aa2ff; --ok: #4ac26b; --bad: #ff7b72; --warn: #d29922; --run: #58a6ff;
    --add-bg: #17402a; --add-fg: #aff5c4; --del-bg: #4d1d1d; --del-fg: #ffc1bd;
  }
}
* { box-sizing: border-box; }
html { font-size: 14px; }
body { margin: 0; background: var(--bg); color: var(--fg); font-family: var(--sans); line-height: 1.45; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
header.top { display: flex; align-items: center; gap: 1.5rem; padding: 0.6rem 1.25rem; border-bottom: 1px solid var(--line); background: var(--panel); position: sticky; top: 0; z-index: 2; }
header.top .brand { font-weight: 700; letter-spacing: 0.02em; color: var(--fg); }
header.top nav { display: flex; gap: 1rem; }
header.top nav a { color: var(--muted); padding: 0.15rem 0; border-bottom: 2px solid transparent; }
header.top nav a.here { color: var(--fg); border-bottom-color: var(--accent); }
header.top .live { margin-left: auto; color: var(--muted); font-size: 0.85rem; display: flex; align-items: center; gap: 0.4rem; }
header.top .live::before { content: ""; width: 0.55rem; height: 0.55rem; border-radius: 50%; background: var(--muted); display: inline-block; }
header.top .live.on::before { background: var(--ok); }
main { padding: 1rem 1.25rem 3rem; max-width: 1600px; margin: 0 auto; }
h1 { font-size: 1.35rem; margin: 0.2rem 0 0.8rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 0.6rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.4rem; }
.muted { color: var(--muted); }
.mono, code, pre { font-family: var(--mono); font-size: 0.92rem; }
.summary + table, table + .summary { margin-top: 0.8rem; }
.summary { display: flex; flex-wrap: wrap; gap: 0.4rem 1.5rem; margin: 0 0 1rem; color: var(--muted); }
.summary b { color: var(--fg); font-weight: 600; }
table { border-collapse: collapse; width: 100%; background: var(--panel); border: 1px solid var(--line); }
th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
th a { color: var(--fg); }
th.sorted-asc::after { content: " \\25B2"; font-size: 0.7em; }
th.sorted-desc::after { content: " \\25BC"; font-size: 0.7em; }
table[data-sort="client"] th { cursor: pointer; user-select: none; }
tr:hover td { background: color-mix(in srgb, var(--accent) 5%, transparent); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.cell { max-width: 28rem; overflow-wrap: anywhere; white-space: pre-wrap; font-family: var(--mono); font-size: 0.85rem; }
table.kv { width: auto; min-width: 24rem; }
table.kv th { background: none; color: var(--muted); font-weight: normal; }
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 999px; font-size: 0.8rem; border: 1px solid currentColor; white-space: nowrap; }
.status-completed { color: var(--ok); }
.status-failed, .status-invalid { color: var(--bad); }
.status-cancelled { color: var(--warn); }
.status-running { color: var(--run); }
.pass { color: var(--ok); }
.fail { color: var(--bad); }
.gone { color: var(--warn); font-size: 0.85rem; }
form.filters { display: flex; flex-wrap: wrap; align-items: end; gap: 0.6rem 0.9rem; margin: 0 0 1rem; padding: 0.7rem; background: var(--panel); border: 1px solid var(--line); }
form.filters label { display: flex; flex-direction: column; font-size: 0.8rem; color: var(--muted); gap: 0.15rem; }
input, select, button { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 0.25rem 0.45rem; }
button, .button { cursor: pointer; background: var(--head); border: 1px solid var(--line); border-radius: 4px; padding: 0.25rem 0.7rem; color: var(--fg); display: inline-block; }
button:hover, .button:hover { border-color: var(--accent); text-decoration: none; }
.pager { display: flex; align-items: center; gap: 0.8rem; margin: 0.8rem 0; color: var(--muted); }
.pager .disabled { opacity: 0.4; pointer-events: none; }
.actions { display: flex; flex-wrap: wrap; gap: 0.6rem; align-items: center; margin: 0.5rem 0 1rem; }
.actions form { display: flex; gap: 0.4rem; align-items: center; }
.actions input[type=number] { width: 7rem; }
.error-box { border: 1px solid var(--bad); color: var(--bad); padding: 0.6rem 0.8rem; background: var(--panel); margin: 0.6rem 0; white-space: pre-wrap; overflow-wrap: anywhere; }
section.step { border: 1px solid var(--line); background: var(--panel); margin: 1rem 0; }
section.step > header { display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; align-items: baseline; padding: 0.5rem 0.8rem; background: var(--head); border-bottom: 1px solid var(--line); }
section.step > header h3 { margin: 0; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0; }
.pair > div { min-width: 0; border-right: 1px solid var(--line); }
.pair > div:last-child { border-right: none; }
.pane-head { display: flex; justify-content: space-between; align-items: center; padding: 0.3rem 0.8rem; color: var(--muted); font-size: 0.85rem; border-bottom: 1px solid var(--line); }
pre.text { margin: 0; padding: 0.7rem 0.8rem; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 36rem; overflow: auto; }
.details { padding: 0.5rem 0.8rem; display: flex; flex-wrap: wrap; gap: 1.5rem; border-top: 1px solid var(--line); }
.details table { width: auto; }
.details > * { flex: 1 1 24rem; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: 0.35rem 1.2rem; margin: 0; }
dl.facts div { min-width: 0; }
dl.facts dt { color: var(--muted); font-size: 0.8rem; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
details > summary { cursor: pointer; color: var(--muted); padding: 0.3rem 0; }
.checks li { margin: 0.15rem 0; }
ins, del { text-decoration: none; border-radius: 2px; }
ins { background: var(--add-bg); color: var(--add-fg); }
del { background: var(--del-bg); color: var(--del-fg); }
table.split { table-layout: fixed; font-family: var(--mono); font-size: 0.85rem; }
table.split td { white-space: pre-wrap; overflow-wrap: anywhere; padding: 0.05rem 0.5rem; border-bottom: none; }
table.split col.ln { width: 3.4rem; }
table.split td.ln { width: 3.2rem; color: var(--muted); text-align: right; user-select: none; border-right: 1px solid var(--line); }
table.split tr.hunk td { background: var(--head); color: var(--muted); padding: 0.2rem 0.5rem; }
table.split td.del { background: color-mix(in srgb, var(--del-bg) 55%, transparent); }
table.split td.add { background: color-mix(in srgb, var(--add-bg) 55%, transparent); }
table.split td.empty { background: var(--head); }
.unchanged-step { padding: 0.5rem 0.8rem; color: var(--muted); }
progress { width: 18rem; height: 0.9rem; vertical-align: middle; accent-color: var(--ok); }
ul.blocks { margin: 0.3rem 0 0.3rem 1.2rem; padding: 0; columns: 2 22rem; }
ul.blocks li { break-inside: avoid; margin: 0.1rem 0; }
.offscreen { position: absolute; left: -9999px; top: 0; }
.empty { padding: 2rem; text-align: center; color: var(--muted); background: var(--panel); border: 1px dashed var(--line); }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } .pair > div { border-right: none; border-bottom: 1px solid var(--line); } }
`;
