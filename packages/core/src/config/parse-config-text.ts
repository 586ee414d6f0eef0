/**
 * Reads the text of a config file into a plain value, and keeps a way back from a path inside it
 * (`tcp.probes`) to its line, so schema errors can point at the line to fix.
 *
 * YAML goes through the `yaml` package. JSON is parsed by JSON.parse (the YAML parser would accept
 * comments and unquoted keys, which a .json file must not have), and then, since JSON is YAML, also
 * by the `yaml` package, only to learn where each node sits and to refuse duplicate keys (JSON.parse keeps
 * the last one silently). Duplicate keys are found here with one Set per mapping, not by the `yaml`
 * package's `uniqueKeys`, which compares every key with every other (40k keys took seconds).
 */
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml'
import { ConfigInvalidError, ConfigParseError } from '../errors.js'
import type { IssuePath } from '../schema/issues.js'

export type ConfigFormat = 'json' | 'yaml'

export interface ParsedConfigText {
  readonly value: unknown
  /** The 1-based line of the value at `path` (or of its key when `key` is true), where it can be found. */
  lineOf(path: IssuePath, key?: boolean): number | undefined
}

/** Aliases may expand to at most this many nodes: a "billion laughs" file fails instead of eating memory. */
const MAX_ALIAS_COUNT = 100

export function parseConfigText(text: string, format: ConfigFormat, file: string): ParsedConfigText {
  // Editors on Windows like to start files with a byte order mark; neither parser wants it.
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text
  return format === 'json' ? parseJson(source, file) : parseYaml(source, file)
}

function parseYaml(source: string, file: string): ParsedConfigText {
  const lineCounter = new LineCounter()
  const doc = parseDocument(source, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: false,
    // YAML 1.1's !!omap, !!set and !!timestamp would become a Map, Set or Date, which the schema reads as
    // an empty mapping (silently dropping what they hold); left unresolved they are plain lists and strings.
    resolveKnownTags: false,
  })
  const error = doc.errors[0]
  if (error !== undefined) {
    const { line, col } = lineCounter.linePos(error.pos[0])
    throw new ConfigParseError(`Cannot parse ${file}:${line}:${col}: ${firstLine(error.message)}`, {
      cause: error,
    })
  }
  // A tag the schema does not know (`!foo`, YAML 1.1's !!omap) is only a warning to the `yaml` package, which
  // then keeps the plain value: the author meant something else, so it is an error here.
  const warning = doc.warnings[0]
  if (warning !== undefined) {
    const { line } = lineCounter.linePos(warning.pos[0])
    throw new ConfigInvalidError(
      `Invalid config in ${file}: line ${line}: ${firstLine(warning.message)} (a keepalive config takes plain values)`,
    )
  }
  checkKeys(doc, lineCounter, file)
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch (cause) {
    // toJS throws for alias bombs and aliases it cannot resolve; both are problems of the text.
    throw new ConfigParseError(
      `Cannot parse ${file}: ${firstLine(String((cause as Error)?.message ?? cause))}`,
      {
        cause,
      },
    )
  }
  return { value, lineOf: locator(doc.contents, lineCounter) }
}

function parseJson(source: string, file: string): ParsedConfigText {
  let value: unknown
  try {
    value = JSON.parse(source)
  } catch (cause) {
    const offset = jsonErrorOffset(source, cause)
    const { line, col } = lineAndColumn(source, offset)
    const reason = String((cause as Error)?.message ?? cause)
      // V8 appends a position or a snippet of the text; the line and column say it better.
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '')
    throw new ConfigParseError(`Cannot parse ${file}:${line}:${col}: ${firstLine(reason)}`, { cause })
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(source, { lineCounter, uniqueKeys: false })
  checkKeys(doc, lineCounter, file)
  return { value, lineOf: locator(doc.contents, lineCounter) }
}

/**
 * Every key a plain scalar, each once per mapping. A second `probes` would silently win (JSON.parse) and
 * the schema's errors would then point at the first; a list or mapping as a key (YAML's `? [a, b]`) would be
 * stringified with a process warning. Walks with an explicit stack: the nesting depth is the file's choice.
 */
function checkKeys(doc: Document, lineCounter: LineCounter, file: string): void {
  const stack: unknown[] = [doc.contents]
  while (stack.length > 0) {
    const node = stack.pop()
    if (isSeq(node)) {
      for (const item of node.items) stack.push(item)
      continue
    }
    if (!isMap(node)) continue
    const seen = new Map<string, number>()
    for (const { key, value } of node.items) {
      const at = lineCounter.linePos((key as Node | null)?.range?.[0] ?? node.range?.[0] ?? 0)
      if (!isScalar(key)) {
        throw new ConfigInvalidError(
          `Invalid config in ${file}: line ${at.line}: a key must be a plain name, not a list or mapping`,
        )
      }
      const name = String(key.value)
      const first = seen.get(name)
      if (first !== undefined) {
        throw new ConfigParseError(
          `Cannot parse ${file}:${at.line}:${at.col}: duplicate key ${JSON.stringify(name)} (first on line ${first})`,
        )
      }
      seen.set(name, at.line)
      stack.push(value)
    }
  }
}

/**
 * Where JSON.parse gave up. V8 says "at position N" for most errors, but not for "Unexpected token"
 * ones, so when the message has no position, find the longest prefix that is still the start of
 * valid JSON: parsing it fails only because the text ends. The first character after it is the culprit.
 */
function jsonErrorOffset(source: string, error: unknown): number {
  const message = String((error as Error)?.message ?? '')
  const position = /at position (\d+)/.exec(message)
  if (position !== null) return Number(position[1])
  let viable = 0
  let broken = source.length
  // Invariant: source.slice(0, viable) is a viable prefix, source.slice(0, broken) is not.
  while (broken - viable > 1) {
    const middle = Math.floor((viable + broken) / 2)
    if (isViableJsonPrefix(source.slice(0, middle))) viable = middle
    else broken = middle
  }
  return viable
}

function isViableJsonPrefix(prefix: string): boolean {
  try {
    JSON.parse(prefix)
    return true
  } catch (error) {
    const message = String((error as Error)?.message ?? '')
    if (message.includes('end of JSON input')) return true
    const position = /at position (\d+)/.exec(message)
    return position !== null && Number(position[1]) >= prefix.length
  }
}

/** 1-based line and column of a character offset. */
function lineAndColumn(source: string, offset: number): { line: number; col: number } {
  const before = source.slice(0, offset)
  const line = before.split('\n').length
  const col = offset - (before.lastIndexOf('\n') + 1) + 1
  return { line, col }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.trim()
}

/** Walks the YAML node tree along a path of keys; answers with the line of the node found. */
function locator(root: unknown, lineCounter: LineCounter): ParsedConfigText['lineOf'] {
  return (path, key = false) => {
    let node: unknown = root
    let keyNode: unknown
    for (const part of path) {
      if (!isMap(node)) return undefined
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(part))
      if (pair === undefined) return undefined
      keyNode = pair.key
      node = pair.value
    }
    // Point at the key for unknown fields and for whole sections (their value starts on the next line).
    const target = key || !isScalar(node) ? (keyNode ?? node) : node
    const offset = (target as Node | undefined)?.range?.[0]
    return offset === undefined ? undefined : lineCounter.linePos(offset).line
  }
}
