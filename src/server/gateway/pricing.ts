// What a model request costs: Anthropic's list prices per million tokens for the Claude models
// (opus, sonnet and haiku, by version), with the prompt-cache rates (a 5-minute cache write costs
// 1.25x the input price, a 1-hour write 2x, a cache read 0.1x). A model id that matches none of
// them has no known price: it costs 0 and the usage page says "price unknown". The demo model is
// priced as the model id the agent asked for (the request's `model`).

export interface ModelPrice {
  /** The family and version, e.g. "Claude Sonnet 4.5". */
  name: string;
  /** USD per million tokens. */
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
}

export interface TokenUsage {
  /** Uncached input tokens (the API's input_tokens). */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  /** Cache writes of either lifetime (the API's cache_creation_input_tokens). */
  cacheCreationTokens: number;
  /** Of cacheCreationTokens, those written for 1 hour (priced at 2x input; the rest at 1.25x). */
  cacheCreation1hTokens?: number;
}

const price = (name: string, input: number, output: number): ModelPrice => ({
  name,
  input,
  output,
  cacheWrite5m: input * 1.25,
  cacheWrite1h: input * 2,
  cacheRead: input * 0.1,
});

/** Newest first within a family: the first pattern that matches the model id wins. */
const PRICES: [RegExp, ModelPrice][] = [
  [/^claude-opus-4-5/, price("Claude Opus 4.5", 5, 25)],
  [/^claude-opus-4-1/, price("Claude Opus 4.1", 15, 75)],
  [/^claude-opus-4(-\d{8}|-0|$)/, price("Claude Opus 4", 15, 75)],
  [/^claude-3-opus/, price("Claude Opus 3", 15, 75)],
  [/^claude-sonnet-4-5/, price("Claude Sonnet 4.5", 3, 15)],
  [/^claude-sonnet-4(-\d{8}|-0|$)/, price("Claude Sonnet 4", 3, 15)],
  [/^claude-3-7-sonnet/, price("Claude Sonnet 3.7", 3, 15)],
  [/^claude-3-5-sonnet/, price("Claude Sonnet 3.5", 3, 15)],
  [/^claude-haiku-4-5/, price("Claude Haiku 4.5", 1, 5)],
  [/^claude-3-5-haiku/, price("Claude Haiku 3.5", 0.8, 4)],
  [/^claude-3-haiku/, price("Claude Haiku 3", 0.25, 1.25)],
];

/** The list price of a model id (with or without a date suffix or "-latest"), or null when unknown. */
export function priceOf(model: string): ModelPrice | null {
  const id = model.trim().toLowerCase();
  for (const [re, p] of PRICES) if (re.test(id)) return p;
  return null;
}

/** The cost in USD of one request's usage at the model's list price (0 when the price is unknown). */
export function costOf(model: string, usage: TokenUsage): number {
  const p = priceOf(model);
  if (!p) return 0;
  const write1h = Math.min(usage.cacheCreation1hTokens ?? 0, usage.cacheCreationTokens);
  const write5m = usage.cacheCreationTokens - write1h;
  const micro =
    usage.inputTokens * p.input +
    usage.outputTokens * p.output +
    usage.cacheReadTokens * p.cacheRead +
    write5m * p.cacheWrite5m +
    write1h * p.cacheWrite1h;
  return micro / 1_000_000;
}
