import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HOSTILE_MARKDOWN as HOSTILE } from './hostile-markdown.js';
import { renderMessage } from './markdown.js';

/** The only elements and attributes the renderer may ever produce. */
const ALLOWED: Record<string, readonly string[]> = {
  p: [],
  br: [],
  strong: [],
  em: [],
  s: [],
  code: [],
  pre: [],
  a: ['href', 'target', 'rel'],
  span: ['class'],
};
const SAFE_HREF = /^(?:https?:\/\/|mailto:)/i;

/**
 * Reads rendered HTML as a browser's tokenizer would see its tags and says what is wrong with it:
 * an element or attribute outside the allow-list, an href that is not http(s)/mailto, or a `<`
 * that is not the start of one of our tags (raw markup from the message).
 */
function problems(html: string): string[] {
  const found: string[] = [];
  const TAG = /<(\/?)([a-z]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*>/g;
  let last = 0;
  for (const match of html.matchAll(TAG)) {
    if (html.slice(last, match.index).includes('<')) found.push(`raw "<" before ${match[0]}`);
    last = match.index + match[0].length;
    const [, , name, attributes] = match as unknown as [string, string, string, string];
    const allowed = ALLOWED[name];
    if (allowed === undefined) {
      found.push(`element <${name}>`);
      continue;
    }
    for (const [, attribute, value] of attributes.matchAll(/\s+([a-z-]+)="([^"]*)"/g)) {
      if (!allowed.includes(attribute!)) found.push(`attribute ${attribute} on <${name}>`);
      if (attribute === 'href' && !SAFE_HREF.test(value!)) found.push(`href ${value}`);
    }
  }
  if (html.slice(last).includes('<')) found.push('raw "<" at the end');
  return found;
}


describe('renderMessage', () => {
  it('renders bold, italics, strikethrough, inline code, code blocks and links', () => {
    expect(renderMessage('**bold** _italic_ *also* ~~gone~~ `code`')).toBe(
      '<p><strong>bold</strong> <em>italic</em> <em>also</em> <s>gone</s> <code>code</code></p>',
    );
    expect(renderMessage('```\nconst a = 1 < 2;\n```')).toBe('<pre><code>const a = 1 &lt; 2;</code></pre>');
    expect(renderMessage('[docs](https://example.com/guide)')).toBe(
      '<p><a href="https://example.com/guide" target="_blank" rel="noopener noreferrer nofollow">docs</a></p>',
    );
  });

  it('keeps line breaks and leaves headings, lists and quotes as typed', () => {
    expect(renderMessage('first line\nsecond line')).toBe('<p>first line<br>\nsecond line</p>');
    expect(renderMessage('# not a heading\n1. not a list\n> not a quote\n---')).toBe(
      '<p># not a heading<br>\n1. not a list<br>\n&gt; not a quote<br>\n---</p>',
    );
  });

  it('links bare http(s) and www. URLs, leaving sentence punctuation and unopened brackets out', () => {
    const hrefs = (text: string) => [...renderMessage(text).matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
    expect(hrefs('see https://example.com/a?b=1#c and http://x.org, or www.roomcast.dev')).toEqual([
      'https://example.com/a?b=1#c',
      'http://x.org',
      'https://www.roomcast.dev',
    ]);
    expect(hrefs('go to https://example.com/page.')).toEqual(['https://example.com/page']);
    expect(hrefs('(see https://example.com/a)')).toEqual(['https://example.com/a']);
    expect(hrefs('wiki https://en.wikipedia.org/wiki/Foo_(bar)!')).toEqual(['https://en.wikipedia.org/wiki/Foo_(bar)']);
    expect(hrefs('at www.example.org/path.')).toEqual(['https://www.example.org/path']);
    // File names that happen to end in a country's domain stay text.
    expect(hrefs('open readme.md and notes.io')).toEqual([]);
  });

  it('shows every piece of the hostile corpus as text or allowed markup only', () => {
    for (const text of HOSTILE) {
      const html = renderMessage(text, { mentions: ['alice'], me: 'alice' });
      expect(problems(html), `${text}\n=> ${html}`).toEqual([]);
    }
  });

  it('escapes markup and entities instead of interpreting them', () => {
    expect(renderMessage('<script>alert(1)</script>')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(renderMessage('<img src=x onerror=alert(1)>')).toBe('<p>&lt;img src=x onerror=alert(1)&gt;</p>');
    expect(renderMessage('&lt;b&gt;')).toBe('<p>&lt;b&gt;</p>');
    expect(renderMessage('[x](javascript:alert(1))')).toBe('<p>[x](javascript:alert(1))</p>');
    expect(renderMessage('[x](&#106;avascript:alert(1))')).not.toContain('href');
    // No images: the alt text becomes an ordinary (checked) link.
    expect(renderMessage('![i](https://example.com/x.png)')).not.toContain('<img');
  });

  it('puts nothing of a code fence’s info string into an attribute', () => {
    expect(renderMessage('```js" onclick="alert(1)\nx\n```')).toBe('<pre><code>x</code></pre>');
  });

  it('highlights the mentions it is given, outside code and links, yours apart', () => {
    const html = renderMessage('@alice and @Bob, not me@alice.com, `@alice` or [@alice](https://x.example)', { mentions: ['alice', 'bob'], me: 'bob' });
    expect(html).toBe(
      '<p><span class="mention">@alice</span> and <span class="mention mention-me">@Bob</span>, not me@alice.com, <code>@alice</code> or ' +
        '<a href="https://x.example" target="_blank" rel="noopener noreferrer nofollow">@alice</a></p>',
    );
    // A name the server did not recognise stays plain.
    expect(renderMessage('@carol hi', { mentions: ['alice'] })).toBe('<p>@carol hi</p>');
    // Names are text, however they are spelled.
    expect(renderMessage('@a.b-c', { mentions: ['a.b-c'] })).toBe('<p><span class="mention">@a.b-c</span></p>');
  });

  it('never produces anything outside the allow-list, whatever the text (property)', () => {
    const pieces = fc.constantFrom('<', '>', '"', "'", '&', '#', ';', '`', '```', '*', '_', '~', '[', ']', '(', ')', '!', '@alice', 'javascript:', 'data:', 'http://', 'https://x.y/', 'www.', 'mailto:', ' on', 'error=', '\n', ' ', 'a', 'script', 'img', '&#106;', '\\');
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 40 }), (parts) => {
        const html = renderMessage(parts.join(''), { mentions: ['alice'], me: 'alice' });
        expect(problems(html), html).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
