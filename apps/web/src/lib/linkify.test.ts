import { describe, expect, it } from 'vitest';
import { linkify } from './linkify.js';

const join = (text: string) => linkify(text).map((part) => part.text).join('');
const links = (text: string) => linkify(text).filter((part) => part.kind === 'link').map((part) => (part.kind === 'link' ? part.href : ''));

describe('linkify', () => {
  it('leaves text without links as one text part', () => {
    expect(linkify('hello <b>there</b>')).toEqual([{ kind: 'text', text: 'hello <b>there</b>' }]);
  });

  it('finds http(s) links and www. links', () => {
    expect(links('see https://example.com/a?b=1#c and http://x.org, or www.roomcast.dev')).toEqual([
      'https://example.com/a?b=1#c',
      'http://x.org/',
      'https://www.roomcast.dev/',
    ]);
  });

  it('keeps sentence punctuation and unopened brackets out of the link', () => {
    expect(links('go to https://example.com/page.')).toEqual(['https://example.com/page']);
    expect(links('(see https://example.com/a)')).toEqual(['https://example.com/a']);
    expect(links('wiki https://en.wikipedia.org/wiki/Foo_(bar)!')).toEqual(['https://en.wikipedia.org/wiki/Foo_(bar)']);
  });

  it('never links a script URL or markup', () => {
    expect(links('javascript:alert(1) <a href="javascript:alert(1)">x</a>')).toEqual([]);
    expect(links('<img src=x onerror=alert(1)>')).toEqual([]);
  });

  it('stops a link at a quote or angle bracket', () => {
    expect(links('"https://example.com/x"<script>')).toEqual(['https://example.com/x']);
  });

  it('gives the text back unchanged when the parts are joined', () => {
    for (const text of ['a https://b.c/d. e', 'www. alone', '(https://x.y/z)) end', '', 'https://', 'line\nhttps://a.b\n']) {
      expect(join(text)).toBe(text);
    }
  });
});
