/** A piece of a chat message: plain text, or a link to render as `<a>`. Never HTML. */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

// `http(s)://…` or `www.…` up to whitespace or a character that cannot end a pasted link.
const LINK = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
/** Punctuation that ends a sentence, not the link: "see https://x.org." */
const TRAILING = /[.,;:!?*_~]+$/;

/** Drops closing brackets that the link did not open: "(see https://x.org/a)". */
function balance(candidate: string): string {
  let link = candidate;
  for (const [open, close] of [['(', ')'], ['[', ']']] as const) {
    while (link.endsWith(close) && link.split(open).length < link.split(close).length) link = link.slice(0, -1);
  }
  return link;
}

function trimLink(candidate: string): string {
  let link = candidate;
  for (;;) {
    const next = balance(link.replace(TRAILING, ''));
    if (next === link) return link;
    link = next;
  }
}

/** An absolute http(s) URL for `text`, or undefined if it is not one (no `javascript:`, ever). */
function hrefOf(text: string): string | undefined {
  try {
    const url = new URL(/^www\./i.test(text) ? `https://${text}` : text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Splits chat text into text and link parts; joining every part's `text` gives `text` back. */
export function linkify(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  const push = (part: TextPart) => {
    const previous = parts.at(-1);
    if (part.kind === 'text' && previous?.kind === 'text') previous.text += part.text;
    else if (part.text !== '') parts.push(part);
  };
  for (const match of text.matchAll(LINK)) {
    const start = match.index;
    const link = trimLink(match[0]);
    const href = hrefOf(link);
    push({ kind: 'text', text: text.slice(last, start) });
    if (href === undefined || link.length <= 'www.'.length) push({ kind: 'text', text: link });
    else push({ kind: 'link', text: link, href });
    last = start + link.length;
  }
  push({ kind: 'text', text: text.slice(last) });
  return parts;
}
