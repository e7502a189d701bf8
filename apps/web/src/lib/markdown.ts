import MarkdownIt, { type StateCore, type Token } from 'markdown-it';

/**
 * Chat markdown: bold, italics, strikethrough, inline code, fenced code blocks, links and bare
 * URLs, line breaks as typed. Nothing else: no raw HTML (`html: false`, so `<script>` is text),
 * no images, headings, lists or quotes (a chat line starting with `#` or `1.` stays as typed).
 * The HTML this returns is the only markup the app puts in the page with `v-html`.
 */
const md = new MarkdownIt('zero', { html: false, breaks: true, linkify: true });
md.enable(['fence', 'newline', 'escape', 'entity', 'backticks', 'emphasis', 'strikethrough', 'link', 'autolink', 'linkify']);
/** After `www.`: a host, then an optional path up to whitespace or a quote. */
const WWW_TAIL = /^[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:[/?#][^\s<>"']*)?/i;
/** Punctuation that ends the sentence, not the link: "see www.x.org/a." */
const SENTENCE_END = /[.,;:!?)]+$/;
// `www.example.com` and `example.com` link, `readme.md` (a Moldovan domain) does not.
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
md.linkify.add('www.', {
  validate: (text, pos) => WWW_TAIL.exec(text.slice(pos))?.[0].replace(SENTENCE_END, '').length ?? 0,
  normalize: (match) => {
    match.url = `https://${match.url}`;
  },
});

/** The only schemes a link may have. markdown-it already refuses `javascript:` and friends; this refuses everything else too. */
const SAFE_LINK = /^(?:https?:\/\/|mailto:)/i;
md.validateLink = (url: string): boolean => SAFE_LINK.test(url.trim());

// Every link opens in a new tab without giving it this page (`window.opener`) or our referrer.
md.renderer.rules.link_open = (tokens, index, options, _env, self) => {
  const token = tokens[index]!;
  token.attrSet('target', '_blank');
  token.attrSet('rel', 'noopener noreferrer nofollow');
  return self.renderToken(tokens, index, options);
};
// A fence's info string would become a class: nothing of the message's reaches an attribute but a checked href.
md.renderer.rules.fence = (tokens, index) => `<pre><code>${md.utils.escapeHtml(tokens[index]!.content.replace(/\n$/, ''))}</code></pre>\n`;

export interface RenderOptions {
  /** Names to highlight as `@name`: those the server recognised in the message. */
  mentions?: readonly string[];
  /** The reader's own name: a mention of it gets the class `mention-me` too. */
  me?: string | null;
}

/** What the mention rule and renderer read from markdown-it's `env`. */
type RenderEnv = {
  mentions: RegExp | undefined;
  me: string | undefined;
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

/** `@name` for one of `names`, not inside a word or an address: the same edges `findMentions` keeps. */
function mentionPattern(names: readonly string[]): RegExp | undefined {
  if (names.length === 0) return undefined;
  return new RegExp(`(^|[^A-Za-z0-9_.@-])@(${names.map(escapeRegExp).join('|')})(?![A-Za-z0-9_-])`, 'gi');
}

/** Splits text tokens (never code, never a link's text) around `@name` into `mention` tokens. */
function mentions(state: StateCore): void {
  const pattern = (state.env as RenderEnv).mentions;
  if (pattern === undefined) return;
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    const children: Token[] = [];
    let inLink = 0;
    for (const token of block.children) {
      if (token.type === 'link_open') inLink += 1;
      if (token.type === 'link_close') inLink -= 1;
      if (token.type !== 'text' || inLink > 0) {
        children.push(token);
        continue;
      }
      let last = 0;
      for (const match of token.content.matchAll(pattern)) {
        const start = match.index + match[1]!.length;
        if (start > last) children.push(textToken(state, token.content.slice(last, start)));
        const mention = new state.Token('mention', '', 0);
        mention.content = match[2]!;
        children.push(mention);
        last = start + 1 + match[2]!.length;
      }
      if (last === 0) children.push(token);
      else if (last < token.content.length) children.push(textToken(state, token.content.slice(last)));
    }
    block.children = children;
  }
}

function textToken(state: StateCore, content: string): Token {
  const token = new state.Token('text', '', 0);
  token.content = content;
  return token;
}

md.core.ruler.push('mentions', mentions);
md.renderer.rules.mention = (tokens, index, _options, env) => {
  const { me } = env as RenderEnv;
  const name = tokens[index]!.content;
  const mine = me !== undefined && name.toLowerCase() === me;
  return `<span class="mention${mine ? ' mention-me' : ''}">@${md.utils.escapeHtml(name)}</span>`;
};

/** Message text as safe HTML (see the rules above), with the given mentions highlighted. */
export function renderMessage(text: string, options: RenderOptions = {}): string {
  const env: RenderEnv = { mentions: mentionPattern(options.mentions ?? []), me: options.me?.toLowerCase() ?? undefined };
  // No newline after the last block: the element's textContent is then the message's text.
  return md.render(text, env).replace(/\n$/, '');
}
