/**
 * Messages that try to get markup, script or a dangerous link through the renderer. Each that
 * could run sets `window.__pwned`, so a browser test can tell that none did. Shared by the unit
 * tests of lib/markdown.ts and the browser test that posts them (e2e/markdown.test.ts).
 */
export const HOSTILE_MARKDOWN: readonly string[] = [
  '<script>window.__pwned = 1</script>',
  '<img src=x onerror=window.__pwned=1>',
  '<svg onload=window.__pwned=1>',
  '<a href="javascript:window.__pwned=1">x</a>',
  '[x](javascript:window.__pwned=1)',
  '[x](JaVaScRiPt:window.__pwned=1)',
  '[x](  javascript:window.__pwned=1  )',
  '[x](&#106;avascript:window.__pwned=1)',
  '[x](java\nscript:window.__pwned=1)',
  '[x](vbscript:msgbox(1))',
  '[x](data:text/html,<script>window.__pwned=1</script>)',
  '[x](data:image/png;base64,AAAA)',
  '[x](file:///etc/passwd)',
  '[x](/relative) [y](//evil.example)',
  '<javascript:window.__pwned=1>',
  '<data:text/html,hi>',
  '![img](https://example.com/x.png)',
  '![img](x" onerror="window.__pwned=1)',
  '[x](https://example.com/" onmouseover="window.__pwned=1)',
  '[x](https://example.com/"><script>window.__pwned=1</script>)',
  '```html" onclick="window.__pwned=1\n<script>window.__pwned=1</script>\n```',
  '`<b>` `` `nested` `` ```inline```',
  '```\n```\n<script>x</script>\n```\n```',
  '&lt;script&gt;window.__pwned=1&lt;/script&gt; &#60;img src=x onerror=window.__pwned=1&#62; &amp;lt;',
  '<!-- comment --> <![CDATA[ x ]]> <?php ?>',
  '<style>body{display:none}</style><iframe src="https://evil.example"></iframe>',
  '[a](https://ok.example)<img src=x onerror=window.__pwned=1>',
  '**<img src=x onerror=window.__pwned=1>**',
  '@<script>window.__pwned=1</script> @alice<img>',
  'https://example.com/<script> www.example.com/"onmouseover=window.__pwned=1',
];
