// The frame every console page shares: title, a small stylesheet, and a self-refresh for live pages.
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

type Fragment = HtmlEscapedString | Promise<HtmlEscapedString>;

/** `stylesheets`: a page's own, after the console's. */
export function layout(title: string, body: Fragment, refreshSeconds?: number, stylesheets: string[] = []) {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        ${refreshSeconds ? html`<meta http-equiv="refresh" content="${refreshSeconds}" />` : ''}
        <title>${title} · Tidemark</title>
        <link rel="stylesheet" href="/assets/console.css" />
        ${stylesheets.map((href) => html`<link rel="stylesheet" href="${href}" />`)}
      </head>
      <body>
        <header><a href="/">Tidemark</a> · ${title}</header>
        <main>${body}</main>
      </body>
    </html>`;
}
