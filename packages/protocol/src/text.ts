/** A UTF-16 surrogate with no partner: not a character, and Redis would store it as U+FFFD. */
const LONE_SURROGATE = /\p{Surrogate}/u;
/**
 * Text nobody can see: whitespace, controls, format characters (zero-width space and joiners,
 * bidi marks) and the other default-ignorable code points (variation selectors, Hangul fillers),
 * plus the blank Braille pattern that renders as a space.
 */
const INVISIBLE_ONLY = /^[\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

/**
 * Why a chat text is refused, or undefined when it is fine: the one rule for sockets and HTTP.
 * Length is checked apart (it has its own code, `too_long`).
 */
export function messageTextProblem(text: string): string | undefined {
  if (LONE_SURROGATE.test(text)) return 'The message has a lone UTF-16 surrogate: send well-formed Unicode.';
  if (INVISIBLE_ONLY.test(text)) return 'The message is empty: it has no visible character.';
  return undefined;
}
