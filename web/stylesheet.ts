// The console's one stylesheet, served from memory: no build step, no file to install beside the code.
export const stylesheet = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2733; background: #f6f7f9; }
header { background: #1d2733; color: #fff; padding: 8px 16px; font-weight: 600; }
header a { color: #fff; text-decoration: none; }
main { padding: 12px 16px; }
.summary { display: flex; gap: 8px; margin-bottom: 10px; }
.count { padding: 6px 12px; border-radius: 4px; background: #e3e7ec; text-decoration: none; color: inherit; }
.count .n { font-weight: 700; }
.count.OK, td.verdict.OK strong { color: #17663a; }
.count.WARNING, td.verdict.WARNING strong { color: #8a5a00; }
.count.CRITICAL, td.verdict.CRITICAL strong { color: #b3261e; }
.count.UNREACHABLE, td.verdict.UNREACHABLE strong { color: #5b5f66; }
.filters { display: flex; gap: 12px; align-items: end; margin-bottom: 10px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e7ec; vertical-align: top; }
th { background: #eef1f4; }
.reasons { color: #5b5f66; font-size: 12px; }
.paused { background: #fff3cd; padding: 0 4px; border-radius: 3px; font-size: 12px; }
.chart { background: #fff; margin: 10px 0; }
form.inline { display: inline; }
.refused { color: #b3261e; font-weight: 600; }
.unreachable { color: #b3261e; font-size: 12px; }
.mark { padding: 0 4px; border-radius: 3px; font-size: 12px; background: #e3e7ec; }
.mark.held { background: #dbe9ff; }
.mark.suspect, .mark.partial { background: #fff3cd; }
h2 { font-size: 16px; margin: 18px 0 6px; }
`;
