/**
 * Nesting limit for decoded JSON. Normalization, the credential scan and canonicalization walk values
 * recursively; a bound far below the call-stack limit turns an absurdly deep document into an input
 * error instead of a crash. (Go's decoder allows 10,000 levels; no real intent comes near 1,000.)
 */
export const MAX_JSON_DEPTH = 1000

/** Iterative, so the check itself cannot overflow the stack. */
export const exceedsDepth = (value: unknown, limit: number): boolean => {
  const stack: Array<readonly [unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as readonly [unknown, number]
    if (current === null || typeof current !== "object") continue
    if (depth > limit) return true
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1])
    }
  }
  return false
}
