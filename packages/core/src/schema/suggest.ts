/**
 * "Did you mean": the closest allowed name to a typo (`idel` → `idle`), by edit distance. Only close
 * matches are offered — a suggestion that is plainly unrelated is noise.
 */

/** The allowed name closest to `name`, or undefined when none is within a third of its length (min 1 edit). */
export function closestName(name: string, allowed: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  const budget = Math.max(1, Math.floor(lower.length / 3))
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of allowed) {
    // The distance is at least the difference in length: skip the matrix when that alone is too far.
    if (Math.abs(lower.length - candidate.length) > budget) continue
    const distance = editDistance(lower, candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= budget ? best : undefined
}

/** ` (did you mean "idle"?)` or the empty string: ready to append to a message. */
export function didYouMean(name: string, allowed: readonly string[]): string {
  // A suggestion is a nicety inside another error's message: it never throws, whatever it is given.
  try {
    if (typeof name !== 'string' || !Array.isArray(allowed)) return ''
    const match = closestName(
      name,
      allowed.filter((candidate) => typeof candidate === 'string'),
    )
    return match === undefined ? '' : ` (did you mean "${match}"?)`
  } catch {
    return ''
  }
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions ("idel" → "idle" is 1). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      const row = rows[i]!
      const above = rows[i - 1]!
      let best = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      }
      row[j] = best
    }
  }
  return rows[a.length]![b.length]!
}
