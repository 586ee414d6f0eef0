/** The channel tables of the READMEs, read: used by docs.test.ts (against the sources) and channels.test.ts (against real messages). */

/** The top-level keys of a message written `{ a, b: 'x' \| 'y', c }` (nested braces and strings skipped). */
export function messageKeys(text: string): string[] | undefined {
  const start = text.indexOf('{')
  if (start === -1) return undefined
  const keys: string[] = []
  let depth = 0
  let current = ''
  for (const char of text.slice(start)) {
    if (char === '{' || char === '(' || char === '[') depth++
    if (char === '}' || char === ')' || char === ']') depth--
    if (depth === 0) break
    if (depth === 1 && char === ',') {
      keys.push(current)
      current = ''
    } else if (!(depth === 1 && char === '{' && current === '' && keys.length === 0)) {
      current += char
    }
  }
  keys.push(current)
  const names = keys.map((k) => /^\s*\{?\s*([A-Za-z_$][\w$]*)/.exec(k)?.[1]).filter((k) => k !== undefined)
  return names.length > 0 ? names : undefined
}

/** README rows `| \`keepalive:a:b\` | \`{ … }\` … |`: the channel tables. */
export function channelRows(
  readmes: readonly string[],
  text: (file: string) => string,
): { file: string; line: number; name: string; keys: string[] | undefined }[] {
  const rows: { file: string; line: number; name: string; keys: string[] | undefined }[] = []
  for (const file of readmes) {
    text(file)
      .split('\n')
      .forEach((row, index) => {
        const match = /^\|\s*`(keepalive:[A-Za-z:]+)`\s*\|(.*)$/.exec(row)
        if (match === null) return
        rows.push({ file, line: index + 1, name: match[1] as string, keys: messageKeys(match[2] as string) })
      })
  }
  return rows
}
