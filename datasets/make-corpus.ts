// Writes a deterministic English-like corpus of an exact size: sentences sampled from the Gutenberg
// books next to this script, salted with a heavy tail of synthetic rare words so vocabulary grows like real text.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE = 'usage: make-corpus.ts --mib <size> --out <path> [--seed <int>] [--files <n>] [--vocab realistic|large]';
const MIB = 1048576;
const CHUNK_CHARS = 4 * MIB;
const BOOKS_DIR = fileURLToPath(new URL('./gutenberg/', import.meta.url));

// How rare words salt the sentences, by vocabulary. Tuned by measurement (seed 1):
// - realistic: ~99k / 198k / ~280k distinct words at 32 / 128 / 256 MiB, as real English of that size has (Heaps' law);
// - large: ~96k / 260k / 1.03M distinct words at 8 / 32 / 256 MiB, an adversarial vocabulary
//   four times real text's, rare words ~6% of tokens.
// p: chance of one more rare word in a sentence (geometric count); alpha: tail exponent (distinct
// rare words grow like n^(1/(1+alpha))); scale: rank below which rare words are roughly equally likely.
const VOCABULARIES = {
  realistic: { p: 0.3, alpha: 1, scale: 20000 },
  large: { p: 0.5, alpha: 0.6, scale: 50000 },
} as const;
type Vocabulary = keyof typeof VOCABULARIES;
const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z',
  'bl', 'br', 'ch', 'cl', 'cr', 'dr', 'fl', 'gr', 'pl', 'pr', 'sh', 'sl', 'st', 'th', 'tr', 'wh'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'ee', 'ie', 'oa', 'ou'];
const CODAS = ['', 'n', 'r', 's', 'l', 'm', 't', 'nd', 'st', 'th', 'ck', 'ng', 'x'];

class UsageError extends Error {}

interface Options { bytes: number; out: string; seed: number; files: number; vocab: Vocabulary }

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: {
      mib: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, files: { type: 'string' }, vocab: { type: 'string' },
    } }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
  const mib = Number(values.mib);
  if (values.mib === undefined || !Number.isFinite(mib) || mib <= 0) throw new UsageError('--mib must be a positive number');
  if (!values.out) throw new UsageError('--out is required');
  const seed = Number(values.seed ?? '1');
  if (!Number.isSafeInteger(seed)) throw new UsageError('--seed must be an integer');
  const files = Number(values.files ?? '1');
  const bytes = Math.round(mib * MIB);
  if (bytes < 1) throw new UsageError('--mib must amount to at least one byte');
  // Every file needs at least its trailing newline.
  if (!Number.isSafeInteger(files) || files < 1 || files > bytes) throw new UsageError('--files must be an integer in 1..bytes');
  const vocab = values.vocab ?? 'realistic';
  if (!(vocab in VOCABULARIES)) throw new UsageError(`--vocab must be one of ${Object.keys(VOCABULARIES).join(', ')}`);
  return { bytes, out: values.out, seed, files, vocab: vocab as Vocabulary };
}

type Rng = () => number;

function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Derives independent 32-bit stream seeds from (seed, purpose) so files and tables don't share sequences.
function mixSeed(seed: number, salt: number): number {
  let h = (Math.floor(seed / 4294967296) ^ Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(salt + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

function bookBody(text: string): string {
  // Gutenberg licence boilerplate would otherwise be oversampled relative to its interest.
  const start = text.search(/\*{3}\s*START OF[^\n]*\n/);
  const end = text.search(/\*{3}\s*END OF/);
  const from = start < 0 ? 0 : text.indexOf('\n', start) + 1;
  return text.slice(from, end > from ? end : text.length);
}

function loadSentences(): string[] {
  const names = readdirSync(BOOKS_DIR).filter((n) => n.endsWith('.txt')).sort();
  if (names.length === 0) throw new Error(`no books found in ${BOOKS_DIR}`);
  const sentences: string[] = [];
  for (const name of names) {
    // ASCII-only text keeps string length equal to byte length, which the exact-size logic relies on.
    const body = bookBody(readFileSync(join(BOOKS_DIR, name), 'utf8'))
      .normalize('NFKD').replace(/[^\x20-\x7e\s]/g, '').replace(/\s+/g, ' ');
    for (const s of body.split(/(?<=[.!?]['")\]]*) (?=['"(\[]*[A-Z0-9])/)) {
      const t = s.trim();
      if (t.length > 1 && /[A-Za-z]/.test(t)) sentences.push(t);
    }
  }
  return sentences;
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// Rare words are ranks drawn from a Lomax (shifted Pareto) law, spelled injectively as
// onset+vowel syllables plus a coda; per-seed syllable orders make each seed's vocabulary different.
class RareWords {
  private readonly tables: string[][] = [];
  private readonly codas: string[];

  constructor(seed: number, readonly law: { p: number; alpha: number; scale: number }) {
    const rng = mulberry32(mixSeed(seed, -1)); // salt -1 never equals a file index
    const syllables = ONSETS.flatMap((o) => VOWELS.map((v) => o + v));
    for (let i = 0; i < 6; i++) this.tables.push(shuffled(syllables, rng));
    this.codas = shuffled(CODAS, rng); // entries must stay distinct or spellings collide
  }

  draw(rng: Rng): string {
    const u = 1 - rng(); // (0, 1], so the power never divides by zero
    const rank = Math.min(Math.floor(this.law.scale * (Math.pow(u, -1 / this.law.alpha) - 1)), 2 ** 50);
    return this.spell(rank);
  }

  spell(rank: number): string {
    const base = this.tables[0]!.length;
    let word = '';
    let n = Math.floor(rank / this.codas.length) + base + 1; // offset guarantees at least two syllables
    for (let pos = 0; n > 0; pos++) {
      n -= 1;
      word += this.tables[pos % this.tables.length]![n % base];
      n = Math.floor(n / base);
    }
    return word + this.codas[rank % this.codas.length];
  }
}

function salted(sentence: string, rare: RareWords, rng: Rng): string {
  let s = sentence;
  while (rng() < rare.law.p) {
    const at = s.indexOf(' ', Math.floor(rng() * s.length));
    const word = rare.draw(rng);
    s = at < 0 ? `${s} ${word}` : `${s.slice(0, at)} ${word}${s.slice(at)}`;
  }
  return s;
}

function makeLine(sentences: readonly string[], rare: RareWords, rng: Rng): string {
  const count = 1 + Math.floor(rng() * 3); // paragraph-ish lines of 1-3 sentences
  let line = salted(sentences[Math.floor(rng() * sentences.length)]!, rare, rng);
  for (let i = 1; i < count; i++) line += ' ' + salted(sentences[Math.floor(rng() * sentences.length)]!, rare, rng);
  return line + '\n';
}

// Size rule: output is exactly `size` bytes. The line that would overflow is cut to fit, its partial
// last word blanked with spaces (no invented word fragments), and it still ends in '\n'.
function lastLine(line: string, room: number): string {
  let cut = line.slice(0, room - 1);
  if (/[A-Za-z]/.test(line[room - 1] ?? '')) cut = cut.replace(/[A-Za-z]+$/, (w) => ' '.repeat(w.length));
  return cut + '\n';
}

function writeCorpusFile(path: string, size: number, sentences: readonly string[], rare: RareWords, rng: Rng): void {
  const fd = openSync(path, 'w');
  try {
    let left = size;
    while (left > 0) {
      const parts: string[] = [];
      let len = 0;
      while (len < CHUNK_CHARS && left - len > 0) {
        let line = makeLine(sentences, rare, rng);
        if (line.length > left - len) line = lastLine(line, left - len);
        parts.push(line);
        len += line.length;
      }
      writeSync(fd, Buffer.from(parts.join(''), 'latin1'));
      left -= len;
    }
  } finally {
    closeSync(fd);
  }
}

function main(): void {
  const started = process.hrtime.bigint();
  const opts = parseOptions(process.argv.slice(2));
  const sentences = loadSentences();
  const rare = new RareWords(opts.seed, VOCABULARIES[opts.vocab]);
  const paths: string[] = [];
  if (opts.files === 1) {
    mkdirSync(dirname(opts.out), { recursive: true });
    paths.push(opts.out);
  } else {
    mkdirSync(opts.out, { recursive: true });
    for (let i = 0; i < opts.files; i++) paths.push(join(opts.out, `part-${String(i).padStart(4, '0')}.txt`));
  }
  paths.forEach((path, i) => {
    // Spread the remainder over the first files so the total is exact.
    const size = Math.floor(opts.bytes / opts.files) + (i < opts.bytes % opts.files ? 1 : 0);
    writeCorpusFile(path, size, sentences, rare, mulberry32(mixSeed(opts.seed, i)));
  });
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const where = opts.files === 1 ? opts.out : `${opts.out}/part-*.txt (${opts.files} files)`;
  process.stderr.write(`make-corpus: wrote ${opts.bytes} bytes to ${where} in ${secs.toFixed(2)}s\n`);
}

try {
  main();
} catch (err) {
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`make-corpus: ${msg}${err instanceof UsageError ? ` (${USAGE})` : ''}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
}
