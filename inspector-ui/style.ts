/** The page's styles: plain, legible, light and dark. */
export const STYLE = `
:root { color-scheme: light dark; --muted: #888; --warn: #c0392b; --line: #8884; font: 14px/1.45 system-ui, sans-serif; }
body { margin: 0; }
header { padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
header a { color: inherit; text-decoration: none; }
main { padding: 1rem; max-width: 1100px; }
h2 { font-size: 1.15rem; margin: .2rem 0 1rem; }
h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .25rem .8rem .25rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
.muted { color: var(--muted); }
.warn, .error { color: var(--warn); }
code, .value, .leaf, pre { font-family: ui-monospace, monospace; font-size: 13px; }
pre { white-space: pre-wrap; margin: 0; }
ul.tree { list-style: none; padding-left: 1.1rem; margin: 0; }
ul.ids { columns: 3; padding-left: 1.1rem; }
.toggle { border: none; background: none; cursor: pointer; padding: 0 .2rem; font: inherit; }
.key { font-weight: 600; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .6rem; background: #2e86de33; }
.live { background: #27ae6033; }
.panel { border: 1px solid var(--line); border-radius: .4rem; padding: .6rem .8rem; margin: .4rem 0; }
.pager { margin: .6rem 0; }
textarea { width: 100%; min-height: 4rem; font-family: ui-monospace, monospace; }
button { cursor: pointer; }
`;
