/**
 * Timing helpers shared by the bench programs: per-call samples with `process.hrtime.bigint`,
 * nearest-rank percentiles, and a fixed-width text table. Reports only; nothing here asserts.
 */

export interface Summary {
  readonly n: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly mean: number
  readonly min: number
  readonly max: number
}

/** Nearest-rank percentile of ascending-sorted values. */
export const percentile = (sorted: ArrayLike<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] ?? Number.NaN
}

export const summarize = (values: ArrayLike<number>): Summary => {
  const sorted = Float64Array.from(values).sort()
  let total = 0
  for (const v of sorted) total += v
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    mean: sorted.length === 0 ? Number.NaN : total / sorted.length,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN
  }
}

export const median = (values: ArrayLike<number>): number => summarize(values).p50

/** Values rounded for the JSON report (µs to 0.001, ms to 0.01). */
export const rounded = (s: Summary, digits: number): Summary => {
  const r = (v: number) => Number(v.toFixed(digits))
  return { n: s.n, p50: r(s.p50), p90: r(s.p90), p99: r(s.p99), mean: r(s.mean), min: r(s.min), max: r(s.max) }
}

/** Runs a collected garbage cycle when node was started with --expose-gc. */
export const collectGarbage = (): void => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) gc()
}

/** Defeats dead-code elimination of benchmarked calls. */
let sink: unknown
export const consume = (value: unknown): void => {
  sink = value
}
export const lastConsumed = (): unknown => sink

export interface MicroOptions {
  /** Wall-clock spent warming up before sampling. */
  readonly warmupMs: number
  /** Wall-clock the sampled iterations should roughly take. */
  readonly sampleMs: number
  readonly minIterations: number
  readonly maxIterations: number
}

/**
 * Times `fn` per call, in µs: warm up for `warmupMs` (so the JIT has optimized the path), size the
 * sample to fill about `sampleMs`, collect garbage, then record one hrtime delta per call.
 */
export const timePerCall = (fn: () => unknown, options: MicroOptions): Summary => {
  const warmupEnd = process.hrtime.bigint() + BigInt(Math.round(options.warmupMs * 1e6))
  let warmupCalls = 0
  const warmupStart = process.hrtime.bigint()
  while (process.hrtime.bigint() < warmupEnd || warmupCalls < 100) {
    consume(fn())
    warmupCalls++
  }
  const perCallNs = Number(process.hrtime.bigint() - warmupStart) / warmupCalls
  const wanted = Math.round((options.sampleMs * 1e6) / Math.max(perCallNs, 1))
  const iterations = Math.min(options.maxIterations, Math.max(options.minIterations, wanted))
  const samples = new Float64Array(iterations)
  collectGarbage()
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint()
    consume(fn())
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000
  }
  return summarize(samples)
}

/** Left-aligned first column, right-aligned others. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ")
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

export const fmt = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : "n/a")
